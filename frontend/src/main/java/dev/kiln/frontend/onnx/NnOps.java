package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Transpose;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Conv, BatchNormalization, Gemm, MatMul and pooling, lowered to Kiln's conv2d, linear, matmul and pool ops. */
final class NnOps {
    private NnOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("Conv", NnOps::conv);
        r.put("BatchNormalization", NnOps::batchNorm);
        r.put("Gemm", NnOps::gemm);
        r.put("MatMul", NnOps::matMul);
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "LinearBias"), NnOps::linearBias);
        r.put("MaxPool", NnOps::maxPool);
        r.put("AveragePool", NnOps::averagePool);
    }

    private static void conv(NodeView n) {
        int[] x = n.dims(0), w = n.dims(1);
        if (x.length != 4 && x.length != 3)
            throw n.unsupported("only 1-D and 2-D convolution are supported (input rank 3 or 4), the input is " + Arrays.toString(x));
        int[] k = Arrays.copyOfRange(w, 2, w.length);
        long[] ks = n.attrInts("kernel_shape", null);
        if (ks != null && !Arrays.equals(NodeView.toInts(ks), k))
            throw n.malformed("kernel_shape " + Arrays.toString(ks) + " does not match the weight " + Arrays.toString(w));
        int[] strides = spatial(n, "strides", x), dilations = spatial(n, "dilations", x);
        int[] pads = pads(n, x, k, strides, dilations);
        int group = (int) n.attrInt("group", 1);
        if (x.length == 4) {
            List<String> in = new ArrayList<>(List.of(n.ir(0), n.ir(1)));
            if (n.has(2)) in.add(n.ir(2));
            n.emitOut(new Conv2d(strides, pads, dilations, group), in);
            return;
        }
        // 1-D: a 2-D convolution over [N, C, 1, L] with a [1, k] kernel
        String w2;
        if (n.in(1) instanceof Value.Const c) w2 = n.constant(c.onnxName(), HostTensor.of(Shape.of(w[0], w[1], 1, w[2]), c.data().toHost().data()));
        else w2 = n.emit("w2d", new Reshape(new int[]{w[0], w[1], 1, w[2]}), List.of(n.ir(1)));
        List<String> in = new ArrayList<>(List.of(n.emit("x2d", new Reshape(new int[]{x[0], x[1], 1, x[2]}), List.of(n.ir(0))), w2));
        if (n.has(2)) in.add(n.ir(2));
        String y = n.emit("conv2d", new Conv2d(lift(strides, 1), lift(pads, 0), lift(dilations, 1), group), in);
        int[] yd = n.ctx.builder.typeOf(y).shape().dims();
        n.emitOut(new Reshape(new int[]{yd[0], yd[1], yd[3]}), List.of(y));
    }

    /** A 1-D attribute as the 2-D one over a height of 1: [v] → [h, v]; pads [b, e] → [0, b, 0, e]. */
    private static int[] lift(int[] v, int h) {
        return v.length == 1 ? new int[]{h, v[0]} : new int[]{h, v[0], h, v[1]};
    }

    /** A 1-D pool (input rank 3) as the 2-D pool over [N, C, 1, L]; a 2-D one as it is. */
    private static void pool(NodeView n, int[] x, int[] k, int[] s, int[] pads, java.util.function.BiFunction<int[], int[], dev.kiln.ir.op.Op> make) {
        if (x.length == 4) { n.emitOut(make.apply(k, pads), List.of(n.ir(0))); return; }
        String x2 = n.emit("x2d", new Reshape(new int[]{x[0], x[1], 1, x[2]}), List.of(n.ir(0)));
        String y = n.emit("pool2d", make.apply(lift(k, 1), lift(pads, 0)), List.of(x2));
        int[] yd = n.ctx.builder.typeOf(y).shape().dims();
        n.emitOut(new Reshape(new int[]{yd[0], yd[1], yd[3]}), List.of(y));
    }

    private static void batchNorm(NodeView n) {
        if (n.attrInt("training_mode", 0) != 0) throw n.unsupported("training_mode=1 (batch statistics) is not supported; export in eval mode");
        if (n.used(1) || n.used(2)) throw n.unsupported("the running mean/var outputs of training mode are not supported");
        if (n.rank(0) < 2) throw n.malformed("input " + Arrays.toString(n.dims(0)) + " has no channel axis");
        n.emitOut(new BatchNorm2d(n.attrFloat("epsilon", 1e-5f)), List.of(n.ir(0), n.ir(1), n.ir(2), n.ir(3), n.ir(4)));
    }

    /** Y = alpha·A'·B' + beta·C; transB=1 with a [N] bias is exactly Kiln's linear. */
    private static void gemm(NodeView n) {
        float alpha = n.attrFloat("alpha", 1), beta = n.attrFloat("beta", 1);
        boolean transA = n.attrInt("transA", 0) != 0, transB = n.attrInt("transB", 0) != 0;
        if (n.rank(0) != 2 || n.rank(1) != 2)
            throw n.malformed("Gemm takes rank-2 A and B, got " + Arrays.toString(n.dims(0)) + " and " + Arrays.toString(n.dims(1)));
        String a = n.ir(0);
        if (transA) a = n.emit("a_t", new Transpose(new int[]{1, 0}), List.of(a));
        String w = transB ? n.ir(1) : weightTransposed(n, n.in(1), "");
        int outN = n.dims(1)[transB ? 0 : 1];
        Value c = n.opt(2);
        boolean cIsBias = c != null && beta == 1 && alpha == 1 && (Arrays.equals(n.ctx.dims(c), new int[]{outN}));
        List<String> in = new ArrayList<>(List.of(a, w));
        if (cIsBias) in.add(n.ctx.ir(c, n.node, false));
        boolean last = c == null || cIsBias;
        if (last && alpha == 1) { n.emitOut(new Linear(), in); return; }
        String y = n.emit("linear", new Linear(), in);
        if (alpha != 1) y = last ? n.emitOut(new Scale(alpha), List.of(y)) : n.emit("alpha", new Scale(alpha), List.of(y));
        if (last) return;
        String cv;
        if (beta != 1 && c instanceof Value.Const k) cv = n.constant(k.onnxName() + ".beta", scaled(k.data().toHost(), beta));
        else {
            cv = n.ctx.ir(c, n.node, false);
            if (beta != 1) cv = n.emit("beta_c", new Scale(beta), List.of(cv));
        }
        n.emitOut(new Binary(Binary.Kind.ADD), List.of(y, cv));
    }

    /**
     * NumPy matmul. A constant rank-2 right operand makes it a linear layer (its weight stored
     * transposed, as nn.Linear keeps it); rank-1 operands are lifted to rank 2 and back.
     */
    private static void matMul(NodeView n) {
        int[] ad = n.dims(0), bd = n.dims(1);
        if (n.in(1) instanceof Value.Const k && k.data().isFloating() && bd.length == 2) {
            n.emitOut(new Linear(), List.of(n.ir(0), weightTransposed(n, k, linearWeightName(n, ""))));
            return;
        }
        String a = n.ir(0), b = n.ir(1);
        if (ad.length == 1) a = n.emit("a2d", new Reshape(new int[]{1, ad[0]}), List.of(a));
        if (bd.length == 1) b = n.emit("b2d", new Reshape(new int[]{bd[0], 1}), List.of(b));
        if (ad.length > 1 && bd.length > 1) { n.emitOut(new MatMul(), List.of(a, b)); return; }
        String y = n.emit("mm", new MatMul(), List.of(a, b));
        int[] yd = n.ctx.builder.typeOf(y).shape().dims();
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < yd.length; i++) {
            boolean dropM = ad.length == 1 && i == yd.length - 2, dropN = bd.length == 1 && i == yd.length - 1;
            if (!dropM && !dropN) keep.add(yd[i]);
        }
        n.emitOut(new Reshape(keep.stream().mapToInt(Integer::intValue).toArray()), List.of(y));
    }

    /** MatMul(x, W) + b found by {@link ImportPatterns}: one linear with W transposed and bias b. */
    private static void linearBias(NodeView n) {
        Value.Const w = (Value.Const) n.in(1);
        n.emitOut(new Linear(), List.of(n.ir(0), weightTransposed(n, w, linearWeightName(n, n.node.input(2))), n.ir(2)));
    }

    private static final java.util.regex.Pattern MODULE_MATMUL = java.util.regex.Pattern.compile("/(.+)/MatMul(_\\d+)?");

    /**
     * For a weight PyTorch renamed when it folded nn.Linear's transpose ("onnx::MatMul_22"), the
     * name nn.Linear gives it: "query.weight" beside a bias "query.bias", or from the node scope
     * "/query/MatMul". "" (keep the ONNX name) for any other weight.
     */
    private static String linearWeightName(NodeView n, String bias) {
        if (!n.node.input(1).startsWith("onnx::")) return "";
        if (bias.endsWith(".bias")) return bias.substring(0, bias.length() - ".bias".length()) + ".weight";
        var m = MODULE_MATMUL.matcher(n.node.name());
        return m.matches() ? m.group(1).replace('/', '.') + ".weight" : "";
    }

    /** A [K,N] weight as [N,K]: a transposed constant, or a transpose node when it is computed. */
    private static String weightTransposed(NodeView n, Value w, String hint) {
        if (w instanceof Value.Const k) {
            HostTensor t = k.data().toHost();
            int rows = t.shape().dim(0), cols = t.shape().dim(1);
            float[] out = new float[t.size()];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[j * rows + i] = t.data()[i * cols + j];
            return n.constant(hint.isEmpty() ? k.onnxName() + ".T" : hint, HostTensor.of(Shape.of(cols, rows), out));
        }
        return n.emit("b_t", new Transpose(new int[]{1, 0}), List.of(n.ctx.ir(w, n.node, false)));
    }

    private static HostTensor scaled(HostTensor t, float f) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] *= f;
        return HostTensor.of(t.shape(), d);
    }

    private static void maxPool(NodeView n) {
        int[] x = pooledInput(n);
        if (n.used(1)) throw n.unsupported("the Indices output is not supported");
        if (n.attrInt("storage_order", 0) != 0) throw n.unsupported("storage_order=1 is not supported");
        int[] dil = spatial(n, "dilations", x);
        if (Arrays.stream(dil).anyMatch(d -> d != 1)) throw n.unsupported("dilated max pooling is not supported");
        int[] k = kernel(n, x), s = spatial(n, "strides", x), pads = pads(n, x, k, s, dil);
        if (n.attrInt("ceil_mode", 0) != 0) ceilPadding(x, k, s, pads);
        checkPadsBelowKernel(n, k, pads);
        int[] s2 = x.length == 3 ? lift(s, 1) : s;
        pool(n, x, k, s, pads, (k2, p2) -> new MaxPool2d(k2, s2, p2));
    }

    private static void averagePool(NodeView n) {
        int[] x = pooledInput(n);
        int[] k = kernel(n, x), s = spatial(n, "strides", x), pads = pads(n, x, k, s, ones(x.length - 2));
        boolean includePad = n.attrInt("count_include_pad", 0) != 0;
        if (n.attrInt("ceil_mode", 0) != 0) {
            int[] before = pads.clone();
            ceilPadding(x, k, s, pads);
            if (includePad && !Arrays.equals(before, pads))
                throw n.unsupported("ceil_mode=1 with count_include_pad=1 is not supported where it changes the output size");
        }
        checkPadsBelowKernel(n, k, pads);
        int[] s2 = x.length == 3 ? lift(s, 1) : s;
        pool(n, x, k, s, pads, (k2, p2) -> new AvgPool2d(k2, s2, p2, includePad));
    }

    private static int[] pooledInput(NodeView n) {
        int[] x = n.dims(0);
        if (x.length != 4 && x.length != 3)
            throw n.unsupported("only 1-D and 2-D pooling are supported (input rank 3 or 4), the input is " + Arrays.toString(x));
        return x;
    }

    private static int[] kernel(NodeView n, int[] x) {
        long[] k = n.attrInts("kernel_shape", null);
        if (k == null || k.length != x.length - 2)
            throw n.malformed("kernel_shape must have " + (x.length - 2) + " values, got " + (k == null ? "none" : Arrays.toString(k)));
        return NodeView.toInts(k);
    }

    private static int[] ones(int n) {
        int[] v = new int[n];
        Arrays.fill(v, 1);
        return v;
    }

    /** A per-spatial-axis attribute (strides, dilations): one value per axis after N and C, 1 by default. */
    private static int[] spatial(NodeView n, String name, int[] x) {
        int axes = x.length - 2;
        long[] v = n.attrInts(name, null);
        if (v == null) return ones(axes);
        if (v.length != axes) throw n.malformed(name + " must have " + axes + " values for a " + axes + "-D op, got " + Arrays.toString(v));
        return NodeView.toInts(v);
    }

    /** pads in ONNX's order (every axis's begin, then every end: [top, left, bottom, right] in 2-D), from pads or auto_pad. */
    static int[] pads(NodeView n, int[] x, int[] k, int[] s, int[] d) {
        int axes = k.length;
        String auto = n.attrString("auto_pad", "NOTSET");
        if (auto.equals("NOTSET")) {
            long[] p = n.attrInts("pads", new long[2 * axes]);
            if (p.length != 2 * axes) throw n.malformed("pads must have " + 2 * axes + " values for a " + axes + "-D op, got " + Arrays.toString(p));
            return NodeView.toInts(p);
        }
        if (auto.equals("VALID")) return new int[2 * axes];
        if (!auto.equals("SAME_UPPER") && !auto.equals("SAME_LOWER")) throw n.malformed("unknown auto_pad '" + auto + "'");
        int[] pads = new int[2 * axes];
        for (int i = 0; i < axes; i++) {
            int in = x[2 + i], out = (in + s[i] - 1) / s[i];
            int total = Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in);
            int small = total / 2, big = total - small;
            pads[i] = auto.equals("SAME_UPPER") ? small : big;
            pads[i + axes] = auto.equals("SAME_UPPER") ? big : small;
        }
        return pads;
    }

    /** ceil_mode as extra end padding: windows may start inside the input (or its begin padding), never in the end padding. */
    private static void ceilPadding(int[] x, int[] k, int[] s, int[] pads) {
        int axes = k.length;
        for (int i = 0; i < axes; i++) {
            int span = x[2 + i] + pads[i] + pads[i + axes] - k[i];
            int out = Math.ceilDiv(span, s[i]) + 1;
            if ((out - 1) * s[i] >= x[2 + i] + pads[i]) out--;
            pads[i + axes] += Math.max(0, (out - 1) * s[i] + k[i] - (x[2 + i] + pads[i] + pads[i + axes]));
        }
    }

    private static void checkPadsBelowKernel(NodeView n, int[] k, int[] pads) {
        for (int i = 0; i < k.length; i++)
            if (pads[i] >= k[i] || pads[i + k.length] >= k[i])
                throw n.unsupported("padding " + Arrays.toString(pads) + " is not smaller than the kernel " + Arrays.toString(k));
    }
}
