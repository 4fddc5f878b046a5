package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/**
 * Normalisation over the trailing axes [axis, rank): each row (one index of the leading axes)
 * becomes (x − mean) / sqrt(var + eps), var the biased variance, then times scale and plus bias
 * when they are given. Operands: x, then optionally scale, then optionally bias, each of the
 * trailing shape dims[axis..] (the same for every row). nn.LayerNorm is axis = rank − #normalized
 * dims; instance and group norms normalise over [2, rank) of their (reshaped) input and apply
 * their per-channel affine after (see the importers).
 */
public record LayerNorm(int axis, float eps) implements Op {
    public LayerNorm {
        if (axis < 0) throw new IllegalArgumentException("layer_norm axis must be normalised to >= 0, got " + axis);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw new IllegalArgumentException("layer_norm eps must be finite and >= 0, got " + eps);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 3);
        int[] d = in.get(0).shape().dims();
        Checks.require(axis < d.length, this, "axis " + axis + " out of range for " + in.get(0));
        int[] trailing = Arrays.copyOfRange(d, axis, d.length);
        for (int i = 1; i < in.size(); i++)
            Checks.require(Arrays.equals(in.get(i).shape().dims(), trailing), this, (i == 1 ? "scale " : "bias ") + in.get(i)
                    + " must have the normalised shape " + Arrays.toString(trailing) + " of " + in.get(0));
        return in.get(0);
    }

    /** The number of elements each row normalises: the product of dims[axis..]. */
    public int rowLength(int[] dims) {
        int n = 1;
        for (int i = axis; i < dims.length; i++) n *= dims[i];
        return n;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        float[] x = in.get(0).data(), y = new float[x.length];
        float[] scale = in.size() > 1 ? in.get(1).data() : null, bias = in.size() > 2 ? in.get(2).data() : null;
        int len = rowLength(in.get(0).shape().dims());
        for (int row = 0; row * len < x.length; row++) {
            int o = row * len;
            double sum = 0;
            for (int j = 0; j < len; j++) sum += x[o + j];
            double mean = sum / len, sq = 0;
            for (int j = 0; j < len; j++) sq += (x[o + j] - mean) * (x[o + j] - mean);
            double inv = 1 / Math.sqrt(sq / len + eps);
            for (int j = 0; j < len; j++) {
                double v = (x[o + j] - mean) * inv;
                if (scale != null) v *= scale[j];
                if (bias != null) v += bias[j];
                y[o + j] = (float) v;
            }
        }
        return HostTensor.of(in.get(0).shape(), y);
    }
}
