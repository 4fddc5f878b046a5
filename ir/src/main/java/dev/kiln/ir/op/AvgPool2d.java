package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Average pooling over [N,C,H,W] windows. With countIncludePad the divisor is the full
 * window (PyTorch's default); without, only the in-bounds elements (ONNX's default).
 */
public record AvgPool2d(Ints kernel, Ints stride, Ints padding, boolean countIncludePad) implements Op {
    public AvgPool2d {
        Checks.positive(Checks.pair(kernel, "kernel"), "kernel");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
    }

    /** The same, from arrays (copied). */
    public AvgPool2d(int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        this(Ints.of(kernel), Ints.of(stride), Ints.of(padding), countIncludePad);
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
                    double s = 0;
                    int count = 0;
                    for (int ky = 0; ky < kernel.get(0); ky++) {
                        int iy = oy * stride.get(0) - padding.get(0) + ky;
                        for (int kx = 0; kx < kernel.get(1); kx++) {
                            int ix = ox * stride.get(1) - padding.get(1) + kx;
                            boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                            // PyTorch counts padding but never windows hanging past the padded edge
                            boolean inPadded = iy < h + padding.get(2) && ix < w + padding.get(3);
                            if (inside) s += x[(p * h + iy) * w + ix];
                            if (inside || (countIncludePad && inPadded)) count++;
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = (float) (s / count);
                }
        return HostTensor.of(out, y);
    }
}
