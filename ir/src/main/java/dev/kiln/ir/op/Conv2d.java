package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * 2-D convolution (cross-correlation, as PyTorch and ONNX define it), then its epilogue.
 * Operands: x[N,C,H,W], weight[O,C/groups,KH,KW], optional bias[O], and when the epilogue reads
 * one the extra operand (result-shaped; the bias is then required, so the extra is always the
 * fourth). Result [N,O,OH,OW].
 *
 * @param stride   [sh, sw]
 * @param padding  [top, left, bottom, right] zeros around the input
 * @param dilation [dh, dw]
 * @param groups   C and O both divisible by it; groups == C is a depthwise convolution
 * @param epilogue what follows the bias ({@link Epilogue#NONE} for a plain conv); when it ends with a
 *                 {@link Pool} the result is the pooled [N,O,PH,PW]
 */
public record Conv2d(Ints stride, Ints padding, Ints dilation, int groups, Epilogue epilogue) implements Op, EpilogueAnchor, PadsInput {
    @Override public Conv2d withEpilogue(Epilogue e) { return new Conv2d(stride, padding, dilation, groups, e); }
    @Override public int biasOperand() { return 2; }

    /** A plain convolution. */
    public Conv2d(Ints stride, Ints padding, Ints dilation, int groups) { this(stride, padding, dilation, groups, Epilogue.NONE); }

    /** The same, from arrays (copied). */
    public Conv2d(int[] stride, int[] padding, int[] dilation, int groups, Epilogue epilogue) {
        this(Ints.of(stride), Ints.of(padding), Ints.of(dilation), groups, epilogue);
    }

    /** A plain convolution, from arrays (copied). */
    public Conv2d(int[] stride, int[] padding, int[] dilation, int groups) { this(stride, padding, dilation, groups, Epilogue.NONE); }

    /** The same convolution without its epilogue. */
    public Conv2d plain() { return withEpilogue(Epilogue.NONE); }

    public Conv2d {
        java.util.Objects.requireNonNull(epilogue, "epilogue");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
        Checks.positive(Checks.pair(dilation, "dilation"), "dilation");
        if (groups <= 0) throw new IllegalArgumentException("groups must be positive: " + groups);
    }

    /** Stride 1, symmetric padding p, no dilation. */
    public static Conv2d of(int padding, int groups) {
        return new Conv2d(Ints.of(1, 1), Ints.filled(4, padding), Ints.of(1, 1), groups);
    }

    /** A depthwise conv: one filter per input channel. */
    public boolean isDepthwise(TensorType x, TensorType w) { return groups == x.dim(1) && groups == w.dim(0); }

    @Override public TensorType inferType(List<TensorType> in) {
        if (epilogue.hasExtra()) {
            Checks.arity(this, in, 4, 4);
            TensorType out = plain().inferType(in.subList(0, 3));
            epilogue.checkExtra(this, in, out);
            return out;
        }
        if (epilogue.pool() != null) return epilogue.outType(this, plain().inferType(in));
        Checks.arity(this, in, 2, 3);
        TensorType x = in.get(0), w = in.get(1);
        Checks.rank(this, "input", x, 4);
        Checks.rank(this, "weight", w, 4);
        int c = x.dim(1), o = w.dim(0);
        Checks.require(c % groups == 0 && o % groups == 0, this,
                "groups=" + groups + " must divide input channels " + c + " and output channels " + o + " (input " + x + ", weight " + w + ")");
        Checks.require(w.dim(1) == c / groups, this,
                "weight " + w + " needs " + (c / groups) + " input channels per group for input " + x + " with groups=" + groups);
        if (in.size() == 3) {
            Checks.require(in.get(2).rank() == 1 && in.get(2).dim(0) == o, this, "bias " + in.get(2) + " must be [" + o + "]");
        }
        int oh = Checks.windowOut(x.dim(2), padding.get(0), padding.get(2), w.dim(2), stride.get(0), dilation.get(0));
        int ow = Checks.windowOut(x.dim(3), padding.get(1), padding.get(3), w.dim(3), stride.get(1), dilation.get(1));
        Checks.require(oh > 0 && ow > 0, this, "kernel " + w + " does not fit input " + x + " with this padding");
        return TensorType.f32(x.dim(0), o, oh, ow);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        if (!epilogue.isNone())
            return epilogue.apply(plain().evaluate(in.subList(0, in.size() - epilogue.extraOperands())), epilogue.hasExtra() ? in.getLast() : null);
        float[] x = in.get(0).data(), w = in.get(1).data(), b = in.size() == 3 ? in.get(2).data() : null;
        int[] xd = in.get(0).shape().dims(), wd = in.get(1).shape().dims();
        int n = xd[0], c = xd[1], h = xd[2], wi = xd[3], o = wd[0], cg = wd[1], kh = wd[2], kw = wd[3];
        int oh = out.dim(2), ow = out.dim(3), og = o / groups;
        float[] y = new float[out.elementCount()];
        for (int b0 = 0; b0 < n; b0++)
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = b == null ? 0 : b[oc];
                        for (int ic = 0; ic < cg; ic++) {
                            int xc = g * cg + ic;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * stride.get(0) - padding.get(0) + ky * dilation.get(0);
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * stride.get(1) - padding.get(1) + kx * dilation.get(1);
                                    if (ix < 0 || ix >= wi) continue;
                                    acc += (double) x[((b0 * c + xc) * h + iy) * wi + ix] * w[((oc * cg + ic) * kh + ky) * kw + kx];
                                }
                            }
                        }
                        y[((b0 * o + oc) * oh + oy) * ow + ox] = (float) acc;
                    }
            }
        return HostTensor.of(out, y);
    }
}
