package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Slice;

import java.util.Arrays;
import java.util.List;

/**
 * ONNX Split as one Kiln slice per output (a slice of a contiguous block, so it stays cheap; a
 * fused QKV projection followed by Split is a GEMM and three slices). The sizes come from the
 * split input (opset 13+), the split attribute (before 13), or are equal: num_outputs parts at
 * opset 18 (the last one smaller when the axis does not divide), one per output before.
 */
final class SplitOp {
    private SplitOp() {}

    static void lower(NodeView n) {
        int[] d = n.dims(0);
        int axis = n.axis(n.attrInt("axis", 0), d.length, "axis"), extent = d[axis], outputs = n.outputCount();
        int[] sizes = sizes(n, extent, outputs);
        if (sizes.length != outputs)
            throw n.malformed("split gives " + sizes.length + " parts " + Arrays.toString(sizes) + " but the node has " + outputs + " outputs");
        long total = Arrays.stream(sizes).asLongStream().sum();
        if (total != extent)
            throw n.malformed("split sizes " + Arrays.toString(sizes) + " add up to " + total + ", not to the extent " + extent + " of axis " + axis);
        int start = 0;
        for (int i = 0; i < outputs; i++) {
            int size = sizes[i];
            if (size <= 0) throw n.unsupported("part " + i + " of the split " + Arrays.toString(sizes) + " is empty; Kiln has no empty tensors");
            if (n.used(i)) {
                if (size == extent) n.set(i, n.in(0));
                else n.setIr(i, n.ctx.emit(n.out(i), new Slice(new int[]{axis}, new int[]{start}, new int[]{start + size}, new int[]{1}),
                        List.of(n.ir(0)), n.origin()));
            }
            start += size;
        }
    }

    private static int[] sizes(NodeView n, int extent, int outputs) {
        long[] given = n.has(1) ? n.constIn(1, "split").longs() : n.attrInts("split", null);
        if (given != null) {
            int[] s = new int[given.length];
            for (int i = 0; i < given.length; i++) {
                if (given[i] < 0 || given[i] > extent) throw n.malformed("split size " + given[i] + " is out of range for an axis of " + extent);
                s[i] = (int) given[i];
            }
            return s;
        }
        if (n.hasAttr("num_outputs")) {
            long parts = n.attrInt("num_outputs", 0);
            if (parts <= 0 || parts != outputs)
                throw n.malformed("num_outputs " + parts + " does not match the node's " + outputs + " outputs");
            // opset 18: parts of ceil(extent / parts), the last one what remains
            int chunk = (int) ((extent + parts - 1) / parts);
            int[] s = new int[outputs];
            for (int i = 0; i < outputs; i++) s[i] = Math.min(chunk, extent - i * chunk);
            return s;
        }
        if (extent % outputs != 0)
            throw n.malformed("an axis of " + extent + " cannot be split into " + outputs + " equal parts (no split sizes given)");
        int[] s = new int[outputs];
        Arrays.fill(s, extent / outputs);
        return s;
    }
}
