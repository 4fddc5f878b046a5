package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;
import dev.kiln.ir.op.Unary;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The integer computations exports make at run time: token ids looked up in an embedding
 * (Gather with computed indices), position ids (CumSum of a mask), casts between integers, bools
 * and floats, and broadcasting a computed mask (Expand). The IR carries integers as exact f32
 * values (see {@code DType}), so these become ordinary ops; which computed values hold integers is
 * tracked ({@link #propagate}) so a cast to an integer type truncates only what is not one already,
 * and an integer Div (which truncates in ONNX) is refused rather than computed as a float division.
 */
final class IntegerOps {
    private IntegerOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("CumSum", IntegerOps::cumSum);
    }

    /** Gather whose indices are computed at run time: one Gather op (ShapeOps handles constant indices). */
    static void gather(NodeView n, int axis) {
        boolean intData = n.ctx.isInteger(n.in(0));
        String out = n.emitOut(new Gather(axis), List.of(n.mask(0), n.mask(1)));
        if (intData) n.ctx.markInteger(out);
    }

    private static void cumSum(NodeView n) {
        ConstTensor axis = n.constIn(1, "axis");
        if (axis.size() != 1) throw n.malformed("CumSum's axis must be a single value, got " + axis.describe());
        int a = n.axis(axis.getLong(0), n.rank(0), "axis");
        n.emitOut(new CumSum(a, n.attrInt("exclusive", 0) != 0, n.attrInt("reverse", 0) != 0), List.of(n.mask(0)));
    }

    /**
     * Cast of a computed tensor to an integer type: the tensor itself when it holds integers already
     * (an integer input, a mask, a sum of those), else rounded toward zero as C and PyTorch cast.
     */
    static void castToInteger(NodeView n) {
        String x = n.mask(0);
        var p = n.ctx.builder.producer(x);
        boolean mask = p != null && (p.op() instanceof Binary b && b.kind().comparison() || p.op() instanceof Unary u && u.kind() == Unary.Kind.NOT);
        if (n.ctx.isInteger(n.in(0)) || mask) n.setIr(0, x);
        else n.emitOut(Unary.of(Unary.Kind.TRUNC), List.of(x));
        n.ctx.markInteger(((Value.Ir) n.ctx.value(n.out(0), n.node)).name());
    }

    /**
     * Expand of a computed tensor to a bigger shape (a key-padding mask broadcast over heads): a
     * product with ones of the shape it lacks, which is exact (x·1 = x for every x, ±0, ±∞ and NaN
     * included) and broadcasts as the element-wise kernels already do.
     */
    static void expand(NodeView n, int[] target) {
        int[] x = n.dims(0);
        int[] ones = new int[target.length];
        for (int i = 0; i < target.length; i++) {
            int j = i - (target.length - x.length);
            ones[i] = j >= 0 && x[j] == target[i] ? 1 : target[i];
        }
        float[] one = new float[(int) Shape.of(ones).size()];
        java.util.Arrays.fill(one, 1f);
        String k = n.constant(n.out(0) + ".ones", HostTensor.of(Shape.of(ones), one));
        n.emitOut(new Binary(Binary.Kind.MUL), List.of(n.mask(0), k));
    }

    /** Ops whose result is an integer when the operands it copies or combines are (by input position; all inputs when null). */
    private static final Map<String, int[]> PRESERVING = Map.ofEntries(
            Map.entry("Reshape", new int[]{0}), Map.entry("Squeeze", new int[]{0}), Map.entry("Unsqueeze", new int[]{0}),
            Map.entry("Flatten", new int[]{0}), Map.entry("Transpose", new int[]{0}), Map.entry("Slice", new int[]{0}),
            Map.entry("Expand", new int[]{0}), Map.entry("Identity", new int[]{0}), Map.entry("Neg", new int[]{0}),
            Map.entry("Abs", new int[]{0}), Map.entry("CumSum", new int[]{0}), Map.entry("Gather", new int[]{0}),
            Map.entry("Where", new int[]{1, 2}), Map.entry("ReduceSum", new int[]{0}), Map.entry("ReduceMax", new int[]{0}),
            Map.entry("ReduceMin", new int[]{0}), Map.entry("Concat", new int[0]), Map.entry("Add", new int[0]),
            Map.entry("Sub", new int[0]), Map.entry("Mul", new int[0]), Map.entry("Min", new int[0]), Map.entry("Max", new int[0]));

    /** After a node is imported: marks its computed outputs as integers where its op keeps its operands' integer type. */
    static void propagate(ImportContext ctx, OnnxModel.Node node) {
        int[] which = PRESERVING.get(node.opType());
        if (which == null || !OnnxFields.isDefaultDomain(node.domain())) return;
        List<String> ins = node.inputs();
        boolean all = true;
        for (int i = 0; i < ins.size() && all; i++) {
            final int k = i;
            if (which.length > 0 && java.util.Arrays.stream(which).noneMatch(w -> w == k)) continue;
            if (ins.get(i).isEmpty()) continue;
            all = ctx.isInteger(ctx.value(ins.get(i), node));
        }
        if (!all) return;
        for (String o : node.outputs())
            if (!o.isEmpty() && ctx.isDefined(o) && ctx.value(o, node) instanceof Value.Ir ir) ctx.markInteger(ir.name());
    }

    /** ONNX integer types a graph input may have, as Kiln dtypes. */
    static final Set<Integer> INPUT_TYPES = Set.of(OnnxFields.INT64, OnnxFields.INT32);
}
