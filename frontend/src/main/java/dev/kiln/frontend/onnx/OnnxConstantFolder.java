package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.frontend.onnx.OnnxModel.Attribute;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

import static dev.kiln.frontend.onnx.OnnxFields.*;

/**
 * Evaluates ONNX nodes whose inputs are all known at import time. This is how shape arithmetic
 * (Shape → Gather → Unsqueeze → Concat → Reshape, Cast, Range, ...) disappears: Kiln's IR has
 * no integer tensors, so such computations must fold here. Integer arithmetic stays in int64;
 * data movement copies values exactly.
 */
final class OnnxConstantFolder {
    private OnnxConstantFolder() {}

    @FunctionalInterface
    interface Fold { ConstTensor apply(NodeView n, List<ConstTensor> in); }

    private static final Map<String, Fold> FOLDS = Map.ofEntries(
            Map.entry("Constant", (n, in) -> constant(n)),
            Map.entry("Identity", (n, in) -> in.getFirst()),
            Map.entry("Shape", (n, in) -> ShapeOps.shapeOf(n, in.getFirst().dims())),
            Map.entry("Size", (n, in) -> ConstTensor.ofLongs(new int[0], new long[]{in.getFirst().size()})),
            Map.entry("Cast", (n, in) -> in.getFirst().cast((int) n.attrInt("to", FLOAT))),
            Map.entry("Reshape", (n, in) -> in.get(0).reshape(ShapeRules.reshape(n, in.get(0).dims(), in.get(1).longs(), n.attrInt("allowzero", 0) != 0))),
            Map.entry("Flatten", (n, in) -> in.getFirst().reshape(ShapeRules.flatten(n, in.getFirst().dims(), n.attrInt("axis", 1)))),
            Map.entry("Unsqueeze", (n, in) -> in.get(0).reshape(ShapeRules.unsqueeze(n, in.get(0).dims(), axes(n, in)))),
            Map.entry("Squeeze", (n, in) -> in.get(0).reshape(ShapeRules.squeeze(n, in.get(0).dims(), axes(n, in)))),
            Map.entry("Concat", OnnxConstantFolder::concat),
            Map.entry("Gather", OnnxConstantFolder::gather),
            Map.entry("Slice", OnnxConstantFolder::slice),
            Map.entry("Transpose", OnnxConstantFolder::transpose),
            Map.entry("Expand", (n, in) -> expand(n, in.get(0), in.get(1).longs())),
            Map.entry("ConstantOfShape", OnnxConstantFolder::constantOfShape),
            Map.entry("Range", OnnxConstantFolder::range),
            Map.entry("Add", (n, in) -> arithmetic(n, in, Double::sum, Long::sum)),
            Map.entry("Sub", (n, in) -> arithmetic(n, in, (a, b) -> a - b, (a, b) -> a - b)),
            Map.entry("Mul", (n, in) -> arithmetic(n, in, (a, b) -> a * b, (a, b) -> a * b)),
            Map.entry("Div", (n, in) -> arithmetic(n, in, (a, b) -> a / b, OnnxConstantFolder::divide)),
            Map.entry("Min", (n, in) -> arithmetic(n, in, Math::min, Math::min)),
            Map.entry("Max", (n, in) -> arithmetic(n, in, Math::max, Math::max)),
            Map.entry("Pow", (n, in) -> elementwise(n, in, in.get(0).dataType(), a -> Math.pow(a[0], a[1]))),
            Map.entry("Equal", (n, in) -> elementwise(n, in, BOOL, a -> a[0] == a[1] ? 1 : 0)),
            Map.entry("Less", (n, in) -> elementwise(n, in, BOOL, a -> a[0] < a[1] ? 1 : 0)),
            Map.entry("Greater", (n, in) -> elementwise(n, in, BOOL, a -> a[0] > a[1] ? 1 : 0)),
            Map.entry("Where", (n, in) -> elementwise(n, in, in.get(1).dataType(), a -> a[0] != 0 ? a[1] : a[2])),
            Map.entry("Not", (n, in) -> unary(in, a -> a == 0 ? 1 : 0)),
            Map.entry("Neg", (n, in) -> unary(in, a -> -a)),
            Map.entry("Abs", (n, in) -> unary(in, Math::abs)),
            Map.entry("Sqrt", (n, in) -> unary(in, Math::sqrt)),
            Map.entry("Reciprocal", (n, in) -> unary(in, a -> 1 / a)),
            Map.entry("Floor", (n, in) -> unary(in, Math::floor)),
            Map.entry("Ceil", (n, in) -> unary(in, Math::ceil)),
            Map.entry("ReduceProd", OnnxConstantFolder::reduceProd));

    /** Whether this op type can be evaluated when all its inputs are constants. */
    static boolean canFold(String opType) { return FOLDS.containsKey(opType); }

    static java.util.Set<String> foldable() { return FOLDS.keySet(); }

    /**
     * The values known before any node is lowered: initializers and what folds from them alone
     * (PyTorch computes F.pad's pads this way, in ConstantOfShape, Concat, Slice, Transpose, Cast...).
     * ImportPatterns matches against these, so a pattern sees a constant however the exporter
     * spelled it. Shape arithmetic on computed tensors folds later, during lowering, once their
     * shapes are known. A node that fails to fold here is left to the lowering, which reports the
     * error if a graph output needs the node.
     */
    static Map<String, ConstTensor> foldStatic(OnnxModel.Graph g, String source) {
        ImportContext scratch = new ImportContext(source, "fold", g.initializers(), java.util.Set.of());
        Map<String, ConstTensor> folded = new java.util.HashMap<>();
        for (OnnxModel.Node node : g.nodes()) {
            if (!isDefaultDomain(node.domain()) || !canFold(node.opType()) || node.outputs().isEmpty()) continue;
            if (!node.inputs().stream().allMatch(i -> i.isEmpty() || scratch.isDefined(i))) continue;
            NodeView n = new NodeView(scratch, node);
            try {
                fold(n);
            } catch (RuntimeException e) {
                continue;       // the lowering meets it again, and reports it if the node is live
            }
            folded.put(n.out(0), ((Value.Const) scratch.value(n.out(0), node)).data());
        }
        return folded;
    }

    /** Folds the node (whose present inputs are all constants) and defines its first output. */
    static void fold(NodeView n) {
        List<ConstTensor> in = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) in.add(n.has(i) ? ((Value.Const) n.in(i)).data() : null);
        try {
            n.setConst(0, FOLDS.get(n.opType()).apply(n, in));
        } catch (ArithmeticException e) {
            throw n.malformed(e.getMessage());
        }
    }

    private static ConstTensor constant(NodeView n) {
        for (Attribute a : n.node.attributes().values()) {
            switch (a.name()) {
                case "value" -> { return ConstTensor.decode(a.t(), n.ctx.source); }
                case "value_float" -> { return ConstTensor.ofFloats(new int[0], new float[]{a.f()}); }
                case "value_floats" -> { return ConstTensor.ofFloats(new int[]{a.floats().length}, a.floats()); }
                case "value_int" -> { return ConstTensor.ofLongs(new int[0], new long[]{a.i()}); }
                case "value_ints" -> { return ConstTensor.ofLongs(new int[]{a.ints().length}, a.ints()); }
                default -> { }
            }
        }
        throw n.unsupported("only value, value_float(s) and value_int(s) constants are supported (found "
                + n.node.attributes().keySet() + ")");
    }

    /** Squeeze/Unsqueeze axes: the second input from opset 13, the attribute before; null when absent. */
    static long[] axes(NodeView n, List<ConstTensor> in) {
        if (in.size() > 1 && in.get(1) != null) return in.get(1).longs();
        return n.attrInts("axes", null);
    }

    private static ConstTensor concat(NodeView n, List<ConstTensor> in) {
        List<ConstTensor> parts = in.stream().filter(java.util.Objects::nonNull).toList();
        int[] first = parts.getFirst().dims();
        int axis = n.axis(n.attrInt("axis", 0), first.length, "axis");
        int[] out = first.clone();
        out[axis] = 0;
        for (ConstTensor t : parts) out[axis] += t.dims()[axis];
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= out[i];
        for (int i = axis + 1; i < out.length; i++) inner *= out[i];
        boolean floating = parts.stream().allMatch(ConstTensor::isFloating);
        double[] dv = floating ? new double[ShapeRules.product(out)] : null;
        long[] lv = floating ? null : new long[ShapeRules.product(out)];
        int at = 0;
        for (ConstTensor t : parts) {
            int block = t.dims()[axis] * inner;
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < block; k++) {
                    int dst = o * out[axis] * inner + at + k, src = o * block + k;
                    if (floating) dv[dst] = t.get(src); else lv[dst] = t.getLong(src);
                }
            at += block;
        }
        return floating ? ConstTensor.of(parts.getFirst().dataType(), out, dv) : ConstTensor.ofLongs(out, lv).cast(parts.getFirst().dataType());
    }

    private static ConstTensor gather(NodeView n, List<ConstTensor> in) {
        ConstTensor data = in.get(0), idx = in.get(1);
        int[] d = data.dims();
        int axis = n.axis(n.attrInt("axis", 0), d.length, "axis");
        int[] out = ShapeRules.gather(d, axis, idx.dims());
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= d[i];
        for (int i = axis + 1; i < d.length; i++) inner *= d[i];
        int[] from = new int[ShapeRules.product(out)];
        int p = 0;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.size(); j++) {
                long k = idx.getLong(j);
                if (k < 0) k += d[axis];
                if (k < 0 || k >= d[axis]) throw n.malformed("index " + idx.getLong(j) + " out of range for axis of size " + d[axis]);
                for (int q = 0; q < inner; q++) from[p++] = (o * d[axis] + (int) k) * inner + q;
            }
        return data.select(out, from);
    }

    private static ConstTensor slice(NodeView n, List<ConstTensor> in) {
        ConstTensor data = in.get(0);
        int[] d = data.dims();
        ShapeRules.SliceSpec s = ShapeRules.slice(n, d, in.get(1).longs(), in.get(2).longs(),
                in.size() > 3 && in.get(3) != null ? in.get(3).longs() : null, in.size() > 4 && in.get(4) != null ? in.get(4).longs() : null);
        int[] out = s.outDims(), idx = new int[out.length], strides = strides(d);
        int[] from = new int[ShapeRules.product(out)];
        for (int p = 0; p < from.length; p++) {
            ShapeRules.unravel(p, out, idx);
            int off = 0;
            for (int i = 0; i < out.length; i++) off += (s.starts()[i] + idx[i] * s.steps()[i]) * strides[i];
            from[p] = off;
        }
        return data.select(out, from);
    }

    private static ConstTensor transpose(NodeView n, List<ConstTensor> in) {
        int[] d = in.getFirst().dims();
        int[] perm = new int[d.length];
        long[] p = n.attrInts("perm", null);
        for (int i = 0; i < perm.length; i++) perm[i] = p == null ? perm.length - 1 - i : (int) p[i];
        int[] out = new int[d.length], idx = new int[d.length], strides = strides(d);
        for (int i = 0; i < d.length; i++) out[i] = d[perm[i]];
        int[] from = new int[ShapeRules.product(out)];
        for (int q = 0; q < from.length; q++) {
            ShapeRules.unravel(q, out, idx);
            int off = 0;
            for (int i = 0; i < out.length; i++) off += idx[i] * strides[perm[i]];
            from[q] = off;
        }
        return in.getFirst().select(out, from);
    }

    static ConstTensor expand(NodeView n, ConstTensor t, long[] shape) {
        int[] target = NodeView.toInts(shape);
        int[] out = ShapeRules.broadcast(n, List.of(t.dims(), target)), idx = new int[out.length], d = t.dims();
        int[] from = new int[ShapeRules.product(out)];
        for (int p = 0; p < from.length; p++) {
            ShapeRules.unravel(p, out, idx);
            from[p] = ShapeRules.broadcastOffset(idx, d);
        }
        return t.select(out, from);
    }

    private static ConstTensor constantOfShape(NodeView n, List<ConstTensor> in) {
        int[] dims = NodeView.toInts(in.getFirst().longs());
        Attribute a = n.attr("value");
        ConstTensor v = a == null ? ConstTensor.ofFloats(new int[]{1}, new float[]{0}) : ConstTensor.decode(a.t(), n.ctx.source);
        double[] values = new double[ShapeRules.product(dims)];
        Arrays.fill(values, v.get(0));
        return v.isFloating() ? ConstTensor.of(v.dataType(), dims, values) : ConstTensor.ofLongs(dims, fill(values.length, v.getLong(0))).cast(v.dataType());
    }

    private static ConstTensor range(NodeView n, List<ConstTensor> in) {
        double start = in.get(0).get(0), limit = in.get(1).get(0), delta = in.get(2).get(0);
        int count = (int) Math.max(0, Math.ceil((limit - start) / delta));
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = start + i * delta;
        return ConstTensor.of(in.get(0).dataType(), new int[]{count}, v);
    }

    private static ConstTensor reduceProd(NodeView n, List<ConstTensor> in) {
        ConstTensor t = in.getFirst();
        long[] axes = n.attrInts("axes", null);
        if (axes != null && axes.length != t.rank() || in.size() > 1)
            throw n.unsupported("only ReduceProd over all axes is folded");
        double p = 1;
        for (int i = 0; i < t.size(); i++) p *= t.get(i);
        boolean keep = n.attrInt("keepdims", 1) != 0;
        int[] dims = new int[keep ? t.rank() : 0];
        Arrays.fill(dims, 1);
        return ConstTensor.of(t.dataType(), dims, new double[]{p});
    }

    /** Integer inputs in int64 arithmetic, floating ones in double rounded to the type. */
    private static ConstTensor arithmetic(NodeView n, List<ConstTensor> in, DoubleBinaryOperator f, LongBinaryOperator l) {
        if (in.stream().anyMatch(ConstTensor::isFloating)) return elementwise(n, in, in.getFirst().dataType(), a -> {
            double acc = a[0];
            for (int i = 1; i < a.length; i++) acc = f.applyAsDouble(acc, a[i]);
            return acc;
        });
        int[] out = ShapeRules.broadcast(n, in.stream().map(ConstTensor::dims).toList()), idx = new int[out.length];
        long[] v = new long[ShapeRules.product(out)];
        for (int p = 0; p < v.length; p++) {
            ShapeRules.unravel(p, out, idx);
            long acc = in.getFirst().getLong(ShapeRules.broadcastOffset(idx, in.getFirst().dims()));
            for (int i = 1; i < in.size(); i++) acc = l.applyAsLong(acc, in.get(i).getLong(ShapeRules.broadcastOffset(idx, in.get(i).dims())));
            v[p] = acc;
        }
        return ConstTensor.ofLongs(out, v).cast(in.getFirst().dataType());
    }

    /** Broadcast element-wise function of all inputs, computed in double. */
    private static ConstTensor elementwise(NodeView n, List<ConstTensor> in, int resultType, java.util.function.ToDoubleFunction<double[]> f) {
        int[] out = ShapeRules.broadcast(n, in.stream().map(ConstTensor::dims).toList()), idx = new int[out.length];
        double[] v = new double[ShapeRules.product(out)], args = new double[in.size()];
        for (int p = 0; p < v.length; p++) {
            ShapeRules.unravel(p, out, idx);
            for (int i = 0; i < args.length; i++) args[i] = in.get(i).get(ShapeRules.broadcastOffset(idx, in.get(i).dims()));
            v[p] = f.applyAsDouble(args);
        }
        return ConstTensor.of(resultType, out, v);
    }

    private static ConstTensor unary(List<ConstTensor> in, DoubleUnaryOperator f) {
        ConstTensor t = in.getFirst();
        double[] v = t.doubles();
        for (int i = 0; i < v.length; i++) v[i] = f.applyAsDouble(v[i]);
        return ConstTensor.of(t.dataType(), t.dims(), v);
    }

    private static long divide(long a, long b) {
        if (b == 0) throw new ArithmeticException("integer division by zero in constant folding");
        return a / b;
    }

    private static long[] fill(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    static int[] strides(int[] d) {
        int[] s = new int[d.length];
        int acc = 1;
        for (int i = d.length - 1; i >= 0; i--) { s[i] = acc; acc *= d[i]; }
        return s;
    }
}
