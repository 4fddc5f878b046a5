package dev.kiln.frontend.onnx;

import dev.kiln.ir.Ints;
import dev.kiln.ir.op.Reduce;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The ReduceX family and the global pools, each one {@link Reduce}. The axes come from the
 * {@code axes} attribute (opsets before 18) or from a constant second input (ReduceSum from
 * opset 13, every ReduceX from 18); no axes means every axis unless {@code noop_with_empty_axes}
 * is set, which makes the node an identity.
 */
final class ReduceOps {
    private ReduceOps() {}

    static void register(Map<String, OpImporter> r) {
        for (var e : Map.of("ReduceSum", Reduce.Kind.SUM, "ReduceMean", Reduce.Kind.MEAN, "ReduceMax", Reduce.Kind.MAX,
                "ReduceMin", Reduce.Kind.MIN, "ReduceProd", Reduce.Kind.PROD, "ReduceL1", Reduce.Kind.L1, "ReduceL2", Reduce.Kind.L2,
                "ReduceSumSquare", Reduce.Kind.SUM_SQUARE, "ReduceLogSum", Reduce.Kind.LOG_SUM,
                "ReduceLogSumExp", Reduce.Kind.LOG_SUM_EXP).entrySet())
            r.put(e.getKey(), n -> reduce(n, e.getValue()));
        r.put("GlobalAveragePool", n -> global(n, Reduce.Kind.MEAN));
        r.put("GlobalMaxPool", n -> global(n, Reduce.Kind.MAX));
    }

    private static void reduce(NodeView n, Reduce.Kind kind) {
        int rank = n.rank(0);
        long[] given = n.inputCount() > 1 && n.has(1) ? n.constIn(1, "axes").longs() : n.attrInts("axes", new long[0]);
        boolean keep = n.attrInt("keepdims", 1) != 0;
        if (given.length == 0 && n.attrInt("noop_with_empty_axes", 0) != 0) { n.set(0, n.in(0)); return; }
        TreeSet<Integer> axes = new TreeSet<>();
        for (long a : given)
            if (!axes.add(n.axis(a, rank, "axis"))) throw n.malformed("axes " + Arrays.toString(given) + " name axis " + a + " twice");
        if (given.length == 0) for (int i = 0; i < rank; i++) axes.add(i);
        if (axes.isEmpty()) { n.set(0, n.in(0)); return; }  // a rank-0 input: nothing to reduce
        n.emitOut(new Reduce(kind, Ints.of(axes.stream().mapToInt(Integer::intValue).toArray()), keep), List.of(n.ir(0)));
    }

    /** GlobalAveragePool / GlobalMaxPool: over every axis after N and C, kept as extent 1. */
    private static void global(NodeView n, Reduce.Kind kind) {
        int rank = n.rank(0);
        if (rank < 3) throw n.malformed("input " + Arrays.toString(n.dims(0)) + " has no spatial axes (rank " + rank + " < 3)");
        int[] axes = new int[rank - 2];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 2;
        n.emitOut(new Reduce(kind, true, axes), List.of(n.ir(0)));
    }
}
