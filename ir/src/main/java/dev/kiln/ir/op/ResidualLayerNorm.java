package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.List;

/**
 * LayerNorm of a residual sum, y = LN(x + r) with the optional affine, as one op (ONNX Runtime's
 * SkipLayerNormalization): a transformer's "add & norm" without the sum ever in memory.
 * Operands: x, r (the same type as x: no broadcasting), then optionally scale and bias as for
 * {@link LayerNorm}. The sum is rounded to f32 before it is normalised, so the op means exactly
 * the add followed by the LayerNorm it replaces.
 */
public record ResidualLayerNorm(int axis, float eps) implements Op {
    public ResidualLayerNorm {
        new LayerNorm(axis, eps);   // the same attribute checks
    }

    /** The LayerNorm this op applies to the sum. */
    public LayerNorm norm() { return new LayerNorm(axis, eps); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 2, 4);
        Checks.require(in.get(1).equals(in.get(0)), this, "residual " + in.get(1) + " must have the type of x " + in.get(0));
        List<TensorType> ln = new ArrayList<>(in);
        ln.remove(1);
        return norm().inferType(ln);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        float[] x = in.get(0).data(), r = in.get(1).data(), sum = new float[x.length];
        for (int i = 0; i < x.length; i++) sum[i] = x[i] + r[i];
        List<HostTensor> ln = new ArrayList<>(in);
        ln.set(0, HostTensor.of(in.get(0).shape(), sum));
        ln.remove(1);
        return norm().evaluate(ln);
    }
}
