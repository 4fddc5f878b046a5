package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Max pooling over [N,C,H,W] windows; padded positions never win (they count as −∞).
 *
 * @param kernel  [kh, kw]
 * @param stride  [sh, sw]
 * @param padding [top, left, bottom, right]
 */
public record MaxPool2d(Ints kernel, Ints stride, Ints padding) implements Op {
    public MaxPool2d {
        Checks.positive(Checks.pair(kernel, "kernel"), "kernel");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
    }

    /** The same, from arrays (copied). */
    public MaxPool2d(int[] kernel, int[] stride, int[] padding) { this(Ints.of(kernel), Ints.of(stride), Ints.of(padding)); }

    public static MaxPool2d of(int k, int stride) {
        return new MaxPool2d(Ints.of(k, k), Ints.of(stride, stride), Ints.filled(4, 0));
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        return Pooling.outType(this, in.get(0), kernel, stride, padding);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        int[] d = in.get(0).shape().dims();
        int h = d[2], w = d[3], oh = out.dim(2), ow = out.dim(3);
        float[] x = in.get(0).data(), y = new float[out.elementCount()];
        for (int p = 0; p < d[0] * d[1]; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double m = Double.NEGATIVE_INFINITY;
                    boolean nan = false;
                    for (int ky = 0; ky < kernel.get(0); ky++) {
                        int iy = oy * stride.get(0) - padding.get(0) + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < kernel.get(1); kx++) {
                            int ix = ox * stride.get(1) - padding.get(1) + kx;
                            if (ix < 0 || ix >= w) continue;
                            float v = x[(p * h + iy) * w + ix];
                            if (Float.isNaN(v)) nan = true;
                            else m = Math.max(m, v);
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = nan ? Float.NaN : (float) m;
                }
        return HostTensor.of(out, y);
    }
}
