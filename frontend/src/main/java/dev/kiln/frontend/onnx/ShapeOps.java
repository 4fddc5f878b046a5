package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Data movement on computed tensors: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
 * Slice, Gather (constant indices), and the shape queries Shape and Size, which are known at
 * import time because shapes are static. Shape operands (target shapes, axes, starts/ends,
 * indices) must be constants; the same ops on constant data are folded by {@link OnnxConstantFolder}.
 */
final class ShapeOps {
    private ShapeOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("Reshape", n -> reshapeTo(n, ShapeRules.reshape(n, n.dims(0), n.constIn(1, "shape").longs(), n.attrInt("allowzero", 0) != 0)));
        r.put("Flatten", n -> reshapeTo(n, ShapeRules.flatten(n, n.dims(0), n.attrInt("axis", 1))));
        r.put("Squeeze", n -> reshapeTo(n, ShapeRules.squeeze(n, n.dims(0), axes(n))));
        r.put("Unsqueeze", n -> reshapeTo(n, ShapeRules.unsqueeze(n, n.dims(0), axes(n))));
        r.put("Transpose", ShapeOps::transpose);
        r.put("Concat", ShapeOps::concat);
        r.put("Slice", ShapeOps::slice);
        r.put("Gather", ShapeOps::gather);
        r.put("Shape", n -> n.setConst(0, shapeOf(n, n.dims(0))));
        r.put("Size", n -> n.setConst(0, ConstTensor.ofLongs(new int[0], new long[]{ShapeRules.product(n.dims(0))})));
        r.put("Cast", ShapeOps::cast);
        r.put("Expand", ShapeOps::expand);
        r.put("Pad", PadOp::lower);
    }

    /** Squeeze/Unsqueeze axes: an input from opset 13, an attribute before; null means "all size-1 axes". */
    private static long[] axes(NodeView n) {
        if (n.has(1)) return n.constIn(1, "axes").longs();
        return n.attrInts("axes", null);
    }

    /** The input with new dims: a reshape node, or the input itself when the dims do not change. */
    private static void reshapeTo(NodeView n, int[] dims) {
        if (Arrays.equals(dims, n.dims(0))) { n.set(0, n.in(0)); return; }
        n.emitOut(new Reshape(dims), List.of(n.ir(0)));
    }

    private static void transpose(NodeView n) {
        int rank = n.rank(0);
        long[] p = n.attrInts("perm", null);
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = p == null ? rank - 1 - i : n.axis(p[i], rank, "perm entry");
        boolean identity = true;
        for (int i = 0; i < rank; i++) identity &= perm[i] == i;
        if (identity) { n.set(0, n.in(0)); return; }
        n.emitOut(new Transpose(perm), List.of(n.ir(0)));
    }

    private static void concat(NodeView n) {
        int rank = n.rank(0);
        List<String> in = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) if (n.has(i)) in.add(n.ir(i));
        if (in.size() == 1) { n.set(0, n.in(0)); return; }
        n.emitOut(new Concat(n.axis(n.attrInt("axis", 0), rank, "axis")), in);
    }

    private static void slice(NodeView n) {
        int[] d = n.dims(0);
        long[] axes = n.has(3) ? n.constIn(3, "axes").longs() : null, steps = n.has(4) ? n.constIn(4, "steps").longs() : null;
        ShapeRules.SliceSpec s = ShapeRules.slice(n, d, n.constIn(1, "starts").longs(), n.constIn(2, "ends").longs(), axes, steps);
        n.set(0, new Value.Ir(slice(n, s, d, "")));
    }

    /** Emits the slice (as output 0 when suffix is empty), or returns the input when it takes everything. */
    private static String slice(NodeView n, ShapeRules.SliceSpec s, int[] d, String suffix) {
        if (s.isIdentity(d)) return n.ir(0);
        List<Integer> ax = new ArrayList<>();
        for (int i = 0; i < d.length; i++) {
            if (s.lengths()[i] == 0) throw n.unsupported("the slice is empty along axis " + i + "; Kiln has no empty tensors");
            if (s.steps()[i] < 0) throw n.unsupported("negative slice steps (reversal) are not supported");
            if (s.starts()[i] != 0 || s.steps()[i] != 1 || s.lengths()[i] != d[i]) ax.add(i);
        }
        int k = ax.size();
        int[] axes = new int[k], starts = new int[k], ends = new int[k], steps = new int[k];
        for (int j = 0; j < k; j++) {
            int i = ax.get(j);
            axes[j] = i;
            starts[j] = s.starts()[i];
            steps[j] = s.steps()[i];
            ends[j] = s.starts()[i] + (s.lengths()[i] - 1) * s.steps()[i] + 1;
        }
        Slice op = new Slice(axes, starts, ends, steps);
        return suffix.isEmpty() ? n.ctx.emit(n.out(0), op, List.of(n.ir(0)), n.origin()) : n.emit(suffix, op, List.of(n.ir(0)));
    }

    /**
     * Gather with constant indices: indices forming an arithmetic progression (a single index,
     * a range, every other element) are one slice; others a slice per index, concatenated.
     * A reshape then gives Gather's result shape.
     */
    private static void gather(NodeView n) {
        int[] d = n.dims(0);
        int axis = n.axis(n.attrInt("axis", 0), d.length, "axis");
        if (!(n.in(1) instanceof ImportContext.Value.Const)) { IntegerOps.gather(n, axis); return; }
        ConstTensor idx = n.constIn(1, "indices");
        int count = idx.size();
        if (count == 0) throw n.unsupported("gathering no elements gives an empty tensor, which Kiln does not have");
        long[] k = idx.longs();
        for (int i = 0; i < count; i++) {
            if (k[i] < 0) k[i] += d[axis];
            if (k[i] < 0 || k[i] >= d[axis]) throw n.malformed("index " + idx.getLong(i) + " is out of range for axis " + axis + " of " + Arrays.toString(d));
        }
        int[] outDims = ShapeRules.gather(d, axis, idx.dims());
        long step = count > 1 ? k[1] - k[0] : 1;
        boolean progression = step > 0;
        for (int i = 1; i < count && progression; i++) progression = k[i] - k[i - 1] == step;
        String picked;
        if (progression) {
            picked = slice(n, axisSlice(d, axis, (int) k[0], count, (int) step), d, "pick");
        } else {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < count; i++) parts.add(slice(n, axisSlice(d, axis, (int) k[i], 1, 1), d, "pick" + i));
            picked = n.emit("picked", new Concat(axis), parts);
        }
        if (Arrays.equals(n.ctx.builder.typeOf(picked).shape().dims(), outDims)) { n.setIr(0, picked); return; }
        n.emitOut(new Reshape(outDims), List.of(picked));
    }

    private static ShapeRules.SliceSpec axisSlice(int[] d, int axis, int start, int count, int step) {
        int[] starts = new int[d.length], steps = new int[d.length], lengths = d.clone();
        Arrays.fill(steps, 1);
        starts[axis] = start;
        steps[axis] = step;
        lengths[axis] = count;
        return new ShapeRules.SliceSpec(starts, steps, lengths);
    }

    /** Shape (opset 15 adds start and end) of a tensor whose dims are known. */
    static ConstTensor shapeOf(NodeView n, int[] dims) {
        int r = dims.length;
        long start = n.attrInt("start", 0), end = n.attrInt("end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = Math.clamp(start, 0, r);
        end = Math.clamp(end, start, r);
        long[] v = new long[(int) (end - start)];
        for (int i = 0; i < v.length; i++) v[i] = dims[(int) start + i];
        return ConstTensor.ofLongs(new int[]{v.length}, v);
    }

    /**
     * Cast of a computed tensor: to a floating type it is the tensor itself (Kiln computes in f32);
     * to bool it is a mask, which a comparison or Not already is (masked_fill exports Greater →
     * Cast(bool) → Where) and any other value becomes as x ≠ 0, written not(not(x)); to an integer
     * type see {@link IntegerOps#castToInteger}.
     */
    private static void cast(NodeView n) {
        int to = (int) n.attrInt("to", OnnxFields.FLOAT);
        if (to == OnnxFields.BOOL) {
            String x = n.ir(0);
            var p = n.ctx.builder.producer(x);
            boolean mask = p != null && (p.op() instanceof Binary b && b.kind().comparison() || p.op() instanceof Unary u && u.kind() == Unary.Kind.NOT);
            if (mask) n.set(0, n.in(0));
            else n.emitOut(Unary.of(Unary.Kind.NOT), List.of(n.emit("not", Unary.of(Unary.Kind.NOT), List.of(x))));
            return;
        }
        if (!ConstTensor.isFloating(to)) { IntegerOps.castToInteger(n); return; }
        n.set(0, n.in(0));
    }

    /** Expand of a computed tensor: itself where it changes nothing, else see {@link IntegerOps#expand}. */
    private static void expand(NodeView n) {
        int[] target = ShapeRules.broadcast(n, List.of(n.dims(0), NodeView.toInts(n.constIn(1, "shape").longs())));
        if (!Arrays.equals(target, n.dims(0))) { IntegerOps.expand(n, target); return; }
        n.set(0, n.in(0));
    }
}
