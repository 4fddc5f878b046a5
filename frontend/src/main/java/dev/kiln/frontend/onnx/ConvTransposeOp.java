package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.ConvTranspose2d;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX ConvTranspose (nn.ConvTranspose2d) as Kiln's conv_transpose2d: strides, pads or auto_pad,
 * output_padding, output_shape, dilations, group. Only the 2-D form: a 1-D or 3-D transposed
 * convolution is refused by name.
 */
final class ConvTransposeOp {
    private ConvTransposeOp() {}

    static void lower(NodeView n) {
        int[] x = n.dims(0), w = n.dims(1);
        if (x.length == 3) throw n.unsupported("1-D transposed convolution (ConvTranspose1d) is not supported; only 2-D (input rank 4)");
        if (x.length == 5) throw n.unsupported("3-D transposed convolution (ConvTranspose3d) is not supported; only 2-D (input rank 4)");
        if (x.length != 4) throw n.unsupported("only 2-D transposed convolution is supported (input rank 4), the input is " + Arrays.toString(x));
        if (w.length != 4) throw n.malformed("the weight " + Arrays.toString(w) + " must have rank 4 for a 2-D transposed convolution");
        int group = (int) n.attrInt("group", 1);
        if (group <= 0 || x[1] % group != 0) throw n.malformed("group=" + group + " must be positive and divide the " + x[1] + " input channels");
        if (w[0] != x[1])
            throw n.malformed("the weight " + Arrays.toString(w) + " must be [C, O/group, kH, kW] with C = " + x[1] + " input channels");
        long[] ks = n.attrInts("kernel_shape", null);
        if (ks != null && (ks.length != 2 || ks[0] != w[2] || ks[1] != w[3]))
            throw n.malformed("kernel_shape " + Arrays.toString(ks) + " does not match the weight " + Arrays.toString(w));
        int[] k = {w[2], w[3]}, s = pair(n, "strides", 1), d = pair(n, "dilations", 1), op = pair(n, "output_padding", 0);
        for (int i = 0; i < 2; i++) {
            if (s[i] <= 0 || d[i] <= 0) throw n.malformed("strides " + Arrays.toString(s) + " and dilations " + Arrays.toString(d) + " must be positive");
            if (op[i] < 0 || op[i] >= Math.max(s[i], d[i]))
                throw n.malformed("output_padding " + Arrays.toString(op) + " must be non-negative and below the stride or the dilation on each axis (strides "
                        + Arrays.toString(s) + ", dilations " + Arrays.toString(d) + ")");
        }
        int[] pads = pads(n, x, k, s, d, op);
        List<String> in = new ArrayList<>(List.of(n.ir(0), n.ir(1)));
        if (n.has(2)) in.add(n.ir(2));
        n.emitOut(new ConvTranspose2d(s, pads, op, d, group), in);
    }

    private static int[] pair(NodeView n, String name, long dflt) {
        long[] v = n.attrInts(name, new long[]{dflt, dflt});
        if (v.length != 2) throw n.malformed(name + " must have 2 values for a 2-D transposed convolution, got " + Arrays.toString(v));
        return NodeView.toInts(v);
    }

    /**
     * [top, left, bottom, right]. With output_shape (or SAME_* auto_pad, whose output is
     * input·stride) the total padding is what crops the full result to that size, split as the
     * ONNX specification says: the odd one at the end for SAME_UPPER, at the start otherwise.
     */
    private static int[] pads(NodeView n, int[] x, int[] k, int[] s, int[] d, int[] op) {
        String auto = n.attrString("auto_pad", "NOTSET");
        if (!List.of("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(auto)) throw n.malformed("unknown auto_pad '" + auto + "'");
        long[] shape = n.attrInts("output_shape", null);
        if (shape == null && (auto.equals("NOTSET") || auto.equals("VALID"))) {
            if (auto.equals("VALID")) return new int[4];
            long[] p = n.attrInts("pads", new long[4]);
            if (p.length != 4) throw n.malformed("pads must have 4 values for a 2-D transposed convolution, got " + Arrays.toString(p));
            for (long v : p) if (v < 0) throw n.unsupported("negative pads " + Arrays.toString(p) + " (growing the result) are not supported");
            return NodeView.toInts(p);
        }
        int[] out = new int[2];
        if (shape != null) {
            if (shape.length != 2 && shape.length != 4)
                throw n.malformed("output_shape " + Arrays.toString(shape) + " must give the 2 spatial sizes (or all 4 dimensions)");
            out[0] = (int) shape[shape.length - 2];
            out[1] = (int) shape[shape.length - 1];
        } else {
            out[0] = x[2] * s[0];
            out[1] = x[3] * s[1];
        }
        int[] pads = new int[4];
        for (int i = 0; i < 2; i++) {
            int full = s[i] * (x[2 + i] - 1) + op[i] + (k[i] - 1) * d[i] + 1, total = full - out[i];
            if (total < 0)
                throw n.unsupported("output size " + out[i] + " exceeds the full transposed-convolution result " + full + " on axis " + (2 + i)
                        + " (it would need negative padding)");
            int small = total / 2, big = total - small;
            pads[i] = auto.equals("SAME_UPPER") ? small : big;
            pads[i + 2] = auto.equals("SAME_UPPER") ? big : small;
        }
        return pads;
    }
}
