package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * 2-D transposed convolution (the gradient of {@link Conv2d} with respect to its input, as
 * PyTorch's ConvTranspose2d and ONNX's ConvTranspose define it), then its epilogue. Each input
 * pixel (iy, ix) spreads its channels through the kernel onto the output pixels
 * (iy·sh − padTop + ky·dh, ix·sw − padLeft + kx·dw); padding crops the result.
 * Operands: x[N,C,H,W], weight[C, O/groups, KH, KW] (input channels first, as both frameworks
 * store it), optional bias[O], and when the epilogue reads one the extra operand (result-shaped;
 * the bias is then required, so the extra is always the fourth). Result [N,O,OH,OW] with
 * OH = (H−1)·sh − padTop − padBottom + dh·(KH−1) + outputPaddingH + 1, and OW likewise.
 *
 * @param stride        [sh, sw]
 * @param padding       [top, left, bottom, right] cropped off the full result
 * @param outputPadding [oph, opw] extra rows/columns at the bottom/right (each below its stride or dilation)
 * @param dilation      [dh, dw]
 * @param groups        C and O both divisible by it
 * @param epilogue      what follows the bias ({@link Epilogue#NONE} for a plain op)
 */
public record ConvTranspose2d(Ints stride, Ints padding, Ints outputPadding, Ints dilation, int groups, Epilogue epilogue)
        implements Op, EpilogueAnchor {
    @Override public ConvTranspose2d withEpilogue(Epilogue e) { return new ConvTranspose2d(stride, padding, outputPadding, dilation, groups, e); }
    @Override public int biasOperand() { return 2; }

    /** The weight's output channels are its axis 1 within each group: flat element i of w[C, O/g, KH, KW] feeds this output channel. */
    @Override public int weightOutputChannel(Shape w, int i) {
        int taps = w.dim(2) * w.dim(3), og = w.dim(1), cg = w.dim(0) / groups;
        int ic = i / (og * taps), j = i / taps % og;
        return ic / cg * og + j;
    }

    /** A plain transposed convolution. */
    public ConvTranspose2d(Ints stride, Ints padding, Ints outputPadding, Ints dilation, int groups) {
        this(stride, padding, outputPadding, dilation, groups, Epilogue.NONE);
    }

    /** The same, from arrays (copied). */
    public ConvTranspose2d(int[] stride, int[] padding, int[] outputPadding, int[] dilation, int groups) {
        this(Ints.of(stride), Ints.of(padding), Ints.of(outputPadding), Ints.of(dilation), groups, Epilogue.NONE);
    }

    /** The same op without its epilogue. */
    public ConvTranspose2d plain() { return withEpilogue(Epilogue.NONE); }

    public ConvTranspose2d {
        java.util.Objects.requireNonNull(epilogue, "epilogue");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
        Checks.pair(outputPadding, "output_padding");
        Checks.positive(Checks.pair(dilation, "dilation"), "dilation");
        if (groups <= 0) throw new IllegalArgumentException("groups must be positive: " + groups);
        for (int a = 0; a < 2; a++)
            if (outputPadding.get(a) < 0 || outputPadding.get(a) >= Math.max(stride.get(a), dilation.get(a)))
                throw new IllegalArgumentException("output_padding " + outputPadding + " must be non-negative and below the stride "
                        + stride + " or the dilation " + dilation + " on each axis");
    }

    /** Stride s, symmetric padding p, no output padding, no dilation, one group. */
    public static ConvTranspose2d of(int stride, int padding) {
        return new ConvTranspose2d(Ints.of(stride, stride), Ints.filled(4, padding), Ints.of(0, 0), Ints.of(1, 1), 1);
    }

    /** Output extent along one axis: (in−1)·s − pads + d·(k−1) + outputPadding + 1. */
    public static int outExtent(int in, int padBegin, int padEnd, int k, int stride, int dilation, int outputPadding) {
        return (in - 1) * stride - padBegin - padEnd + dilation * (k - 1) + outputPadding + 1;
    }

    @Override public TensorType inferType(List<TensorType> in) {
        if (epilogue.hasExtra()) {
            Checks.arity(this, in, 4, 4);
            TensorType out = plain().inferType(in.subList(0, 3));
            epilogue.checkExtra(this, in, out);
            return out;
        }
        Checks.arity(this, in, 2, 3);
        TensorType x = in.get(0), w = in.get(1);
        Checks.rank(this, "input", x, 4);
        Checks.rank(this, "weight", w, 4);
        int c = x.dim(1), o = w.dim(1) * groups;
        Checks.require(c % groups == 0, this, "groups=" + groups + " must divide input channels " + c + " (input " + x + ")");
        Checks.require(w.dim(0) == c, this, "weight " + w + " needs " + c + " input channels (axis 0, [C, O/groups, KH, KW]) for input " + x);
        if (in.size() == 3) {
            Checks.require(in.get(2).rank() == 1 && in.get(2).dim(0) == o, this, "bias " + in.get(2) + " must be [" + o + "]");
        }
        int oh = outExtent(x.dim(2), padding.get(0), padding.get(2), w.dim(2), stride.get(0), dilation.get(0), outputPadding.get(0));
        int ow = outExtent(x.dim(3), padding.get(1), padding.get(3), w.dim(3), stride.get(1), dilation.get(1), outputPadding.get(1));
        Checks.require(oh > 0 && ow > 0, this, "padding " + padding + " crops the whole result of input " + x + " and weight " + w);
        return TensorType.f32(x.dim(0), o, oh, ow);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        if (!epilogue.isNone())
            return epilogue.apply(plain().evaluate(in.subList(0, in.size() - epilogue.extraOperands())), epilogue.hasExtra() ? in.getLast() : null);
        float[] x = in.get(0).data(), w = in.get(1).data(), b = in.size() == 3 ? in.get(2).data() : null;
        int[] xd = in.get(0).shape().dims(), wd = in.get(1).shape().dims();
        int n = xd[0], c = xd[1], h = xd[2], wi = xd[3], og = wd[1], kh = wd[2], kw = wd[3], cg = c / groups;
        int o = out.dim(1), oh = out.dim(2), ow = out.dim(3);
        int sh = stride.get(0), sw = stride.get(1), dh = dilation.get(0), dw = dilation.get(1), pt = padding.get(0), pl = padding.get(1);
        // gathered per output element (not scattered), so each sum is one double accumulation
        float[] y = new float[out.elementCount()];
        for (int b0 = 0; b0 < n; b0++)
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og, j = oc % og;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = b == null ? 0 : b[oc];
                        for (int ky = 0; ky < kh; ky++) {
                            int ty = oy + pt - ky * dh;
                            if (ty < 0 || ty % sh != 0 || ty / sh >= h) continue;
                            for (int kx = 0; kx < kw; kx++) {
                                int tx = ox + pl - kx * dw;
                                if (tx < 0 || tx % sw != 0 || tx / sw >= wi) continue;
                                for (int ic = 0; ic < cg; ic++) {
                                    int xc = g * cg + ic;
                                    acc += (double) x[((b0 * c + xc) * h + ty / sh) * wi + tx / sw] * w[((xc * og + j) * kh + ky) * kw + kx];
                                }
                            }
                        }
                        y[((b0 * o + oc) * oh + oy) * ow + ox] = (float) acc;
                    }
            }
        return HostTensor.of(out, y);
    }
}
