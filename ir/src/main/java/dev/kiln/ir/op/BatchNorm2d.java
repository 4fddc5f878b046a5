package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Inference-mode batch normalisation over axis 1:
 * y = (x − mean) / sqrt(var + eps) · gamma + beta.
 * Operands: x[N,C,...], gamma[C], beta[C], mean[C], var[C].
 */
public record BatchNorm2d(float eps) implements Op {
    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 5, 5);
        TensorType x = in.get(0);
        Checks.require(x.rank() >= 2, this, "input must have a channel axis, got " + x);
        for (int i = 1; i < 5; i++)
            Checks.require(in.get(i).rank() == 1 && in.get(i).dim(0) == x.dim(1), this,
                    "parameter " + i + " is " + in.get(i) + ", expected [" + x.dim(1) + "] for input " + x);
        return x;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        HostTensor x = in.get(0);
        float[] g = in.get(1).data(), be = in.get(2).data(), m = in.get(3).data(), v = in.get(4).data();
        int n = x.shape().dim(0), c = x.shape().dim(1), inner = x.size() / Math.max(1, n * c);
        float[] y = new float[x.size()];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++) {
                double scale = g[ch] / Math.sqrt((double) v[ch] + eps);
                for (int i = 0; i < inner; i++) {
                    int k = (b * c + ch) * inner + i;
                    y[k] = (float) ((x.data()[k] - (double) m[ch]) * scale + be[ch]);
                }
            }
        return HostTensor.of(x.shape(), y);
    }
}
