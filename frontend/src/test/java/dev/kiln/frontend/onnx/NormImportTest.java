package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.LayerNorm;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxLoweringTest.load;
import static dev.kiln.frontend.onnx.OnnxLoweringTest.seq;
import static dev.kiln.frontend.onnx.OnnxTestModel.*;
import static org.junit.jupiter.api.Assertions.*;

/** LayerNormalization and InstanceNormalization: one LayerNorm each (plus a per-channel affine), and what is refused. */
class NormImportTest {
    private static List<String> ops(Graph g) { return g.nodes().stream().map(n -> n.op().mnemonic()).toList(); }

    @Test
    void layerNormalizationIsOneLayerNormWithItsAffine() {
        Graph g = load(new OnnxTestModel().input("x", 2, 3, 4).floats("g", new long[]{3, 4}, seq(12, 1)).floats("b", new long[]{3, 4}, seq(12, 2))
                .node("LayerNormalization", in("x", "g", "b"), in("y"), attr("axis", -2L), attr("epsilon", 1e-3f)).output("y"));
        assertEquals(List.of("layer_norm"), ops(g));
        assertEquals(new LayerNorm(1, 1e-3f), g.nodes().getFirst().op());
        assertEquals(3, g.nodes().getFirst().inputs().size());
    }

    @Test
    void layerNormalizationRefusesUsedStatisticsOtherStashTypesAndBroadcastScales() {
        var stats = assertThrowsExactly(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 2, 4).floats("g", new long[]{4}, seq(4, 1))
                .node("LayerNormalization", in("x", "g"), in("y", "mean")).output("y").output("mean")));
        assertTrue(stats.getMessage().contains("Mean and InvStdDev outputs"), stats.getMessage());
        var stash = assertThrowsExactly(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 2, 4).floats("g", new long[]{4}, seq(4, 1))
                .node("LayerNormalization", in("x", "g"), in("y"), attr("stash_type", 0L)).output("y")));
        assertTrue(stash.getMessage().contains("stash_type=0"), stash.getMessage());
        var bcast = assertThrowsExactly(UnsupportedOpException.class, () -> load(new OnnxTestModel().input("x", 2, 3, 4).floats("g", new long[]{4}, seq(4, 1))
                .node("LayerNormalization", in("x", "g"), in("y"), attr("axis", 1L)).output("y")));
        assertTrue(bcast.getMessage().contains("normalised shape [3, 4]"), bcast.getMessage());
    }

    @Test
    void instanceNormalizationNormalisesEachPlaneThenAppliesThePerChannelAffine() {
        float[] scale = {0.5f, 2f}, bias = {1f, -1f};
        Graph g = load(new OnnxTestModel().input("x", 1, 2, 3, 3).floats("s", new long[]{2}, scale).floats("b", new long[]{2}, bias)
                .node("InstanceNormalization", in("x", "s", "b"), in("y"), attr("epsilon", 1e-5f)).output("y"));
        assertEquals(List.of("layer_norm", "binary", "binary"), ops(g));
        HostTensor x = HostTensor.of(seq(18, 3), 1, 2, 3, 3);
        HostTensor y = ReferenceInterpreter.run(g, Map.of("x", x)).values().iterator().next();
        for (int c = 0; c < 2; c++) {
            double mean = 0, var = 0;
            for (int i = 0; i < 9; i++) mean += x.data()[c * 9 + i] / 9.0;
            for (int i = 0; i < 9; i++) var += Math.pow(x.data()[c * 9 + i] - mean, 2) / 9;
            for (int i = 0; i < 9; i++)
                assertEquals((x.data()[c * 9 + i] - mean) / Math.sqrt(var + 1e-5) * scale[c] + bias[c], y.data()[c * 9 + i], 1e-5);
        }
    }

    @Test
    void instanceNormalizationWithOnesAndZerosAsGroupNormExportsItIsALayerNormAlone() {
        Graph g = load(new OnnxTestModel().input("x", 1, 2, 6).floats("s", new long[]{2}, 1, 1).floats("b", new long[]{2}, 0, 0)
                .node("InstanceNormalization", in("x", "s", "b"), in("y")).output("y"));
        assertEquals(List.of("layer_norm"), ops(g));
        var flat = assertThrowsExactly(MalformedFileException.class, () -> load(new OnnxTestModel().input("x", 2, 6)
                .floats("s", new long[]{6}, seq(6, 1)).floats("b", new long[]{6}, seq(6, 1))
                .node("InstanceNormalization", in("x", "s", "b"), in("y")).output("y")));
        assertTrue(flat.getMessage().contains("no spatial axes"), flat.getMessage());
    }

    /** PyTorch's opset-13 LayerNorm: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add over axes A. */
    private static OnnxTestModel decomposed(long... axes) {
        return new OnnxTestModel().input("x", 2, 3, 4).floats("two", new long[0], 2).floats("eps", new long[0], 1e-5f)
                .floats("g", new long[]{4}, seq(4, 1)).floats("b", new long[]{4}, seq(4, 2))
                .node("ReduceMean", "x", "m", attrInts("axes", axes)).node("Sub", in("x", "m"), in("d"))
                .node("Pow", in("d", "two"), in("p")).node("ReduceMean", "p", "v", attrInts("axes", axes))
                .node("Add", in("v", "eps"), in("e")).node("Sqrt", "e", "s").node("Div", in("d", "s"), in("n"))
                .node("Mul", in("n", "g"), in("o")).node("Add", in("o", "b"), in("y")).output("y");
    }

    @Test
    void theOpsetThirteenDecompositionIsRecognisedAsOneLayerNorm() {
        Graph g = load(decomposed(-1));
        assertEquals(List.of("layer_norm"), ops(g));
        assertEquals(new LayerNorm(2, 1e-5f), g.nodes().getFirst().op());
        // positive axes (rank unknown when patterns match) are left as the reductions they are, and compute the same
        Graph plain = load(decomposed(2));
        assertTrue(ops(plain).contains("reduce"), ops(plain).toString());
        HostTensor x = HostTensor.of(seq(24, 3), 2, 3, 4);
        HostTensor a = ReferenceInterpreter.run(g, Map.of("x", x)).values().iterator().next();
        HostTensor b = ReferenceInterpreter.run(plain, Map.of("x", x)).values().iterator().next();
        assertArrayEquals(b.data(), a.data(), 1e-5f);
    }
}
