package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Where;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every binary kind and where against the reference, exactly (they round once or not at all), on
 * every pair of edge values (NaN, ±∞, ±0) in the vector body and the scalar tail, and broadcast.
 */
class BinaryKindsAndWhereTest {
    static final float[] EDGES = {0f, -0f, 1f, -1f, 2.5f, -3f, 1e-38f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    private static Map<String, HostTensor> run(Graph g, Map<String, HostTensor> in) {
        try (Executable e = new CpuBackend().compile(g, Map.of("threads", "1"))) {
            return e.run(in);
        }
    }

    /** Bit for bit, but +0 and −0 equal (fmin/fmax may pick either sign of zero) and any NaN equal. */
    private static void assertSame(HostTensor want, HostTensor got, String what) {
        for (int i = 0; i < want.size(); i++) {
            float w = want.data()[i], a = got.data()[i];
            if (!(Float.isNaN(w) && Float.isNaN(a)) && w != a) throw new AssertionError(what + " at " + i + ": " + a + ", reference " + w);
        }
    }

    @ParameterizedTest
    @EnumSource(Binary.Kind.class)
    void everyPairOfEdges(Binary.Kind kind) {
        int n = EDGES.length, rows = n, cols = 2 * 16 + n;     // vectors and a tail at any width up to 16
        float[] a = new float[rows * cols], b = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) { a[i * cols + j] = EDGES[i]; b[i * cols + j] = EDGES[j % n]; }
        GraphBuilder g = new GraphBuilder("edges");
        String x = g.input("a", TensorType.f32(rows, cols)), y = g.input("b", TensorType.f32(rows, cols));
        Graph graph = g.output(g.add("op", new Binary(kind), List.of(x, y), "op")).build();
        Map<String, HostTensor> in = Map.of("a", HostTensor.of(a, rows, cols), "b", HostTensor.of(b, rows, cols));
        assertSame(ReferenceInterpreter.run(graph, in).get("op"), run(graph, in).get("op"), kind.name());
    }

    @ParameterizedTest
    @EnumSource(Binary.Kind.class)
    void broadcastPerChannelAndScalar(Binary.Kind kind) {
        GraphBuilder g = new GraphBuilder("bcast");
        String x = g.input("x", TensorType.f32(2, 3, 4, 19));
        String perChannel = g.constant("s", HostTensor.of(new float[]{0.25f, -2f, Float.NaN}, 3, 1, 1));
        String scalar = g.constant("k", HostTensor.of(new float[]{0.5f}, 1));
        Graph graph = g.output(g.add("c", new Binary(kind), List.of(x, perChannel), "c"))
                .output(g.add("k0", new Binary(kind), List.of(scalar, x), "k0")).build();
        float[] d = new float[2 * 3 * 4 * 19];
        for (int i = 0; i < d.length; i++) d[i] = i % 7 == 0 ? 0.5f : (float) Math.sin(i) * 3;
        Map<String, HostTensor> in = Map.of("x", HostTensor.of(d, 2, 3, 4, 19));
        var want = ReferenceInterpreter.run(graph, in);
        var got = run(graph, in);
        for (String o : want.keySet()) assertSame(want.get(o), got.get(o), kind + " " + o);
    }

    @Test
    void whereBroadcastsItsThreeOperandsAndTakesNaNAsTrue() {
        GraphBuilder g = new GraphBuilder("where");
        String cond = g.input("m", TensorType.f32(4, 1, 37)), a = g.input("a", TensorType.f32(3, 37));
        String minusInf = g.constant("ninf", HostTensor.of(new float[]{Float.NEGATIVE_INFINITY}, 1));
        Graph graph = g.output(g.add("fill", new Where(), List.of(cond, minusInf, a), "fill"))
                .output(g.add("keep", new Where(), List.of(cond, a, minusInf), "keep")).build();
        float[] m = new float[4 * 37], x = new float[3 * 37];
        for (int i = 0; i < m.length; i++) m[i] = switch (i % 5) { case 0 -> 1f; case 1 -> Float.NaN; case 2 -> -0f; default -> 0f; };
        for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 9;
        Map<String, HostTensor> in = Map.of("m", HostTensor.of(m, 4, 1, 37), "a", HostTensor.of(x, 3, 37));
        var want = ReferenceInterpreter.run(graph, in);
        var got = run(graph, in);
        assertEquals(List.of(4, 3, 37), java.util.Arrays.stream(got.get("fill").shape().dims()).boxed().toList());
        for (String o : want.keySet()) assertSame(want.get(o), got.get(o), o);
    }
}
