package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Mean over the spatial axes: [N,C,H,W] → [N,C,1,1]. */
public record GlobalAvgPool() implements Op {
    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        Checks.rank(this, "input", in.get(0), 4);
        return TensorType.f32(in.get(0).dim(0), in.get(0).dim(1), 1, 1);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        int[] d = in.get(0).shape().dims();
        int hw = d[2] * d[3];
        float[] x = in.get(0).data(), y = new float[d[0] * d[1]];
        for (int p = 0; p < y.length; p++) {
            double s = 0;
            for (int i = 0; i < hw; i++) s += x[p * hw + i];
            y[p] = (float) (s / hw);
        }
        return HostTensor.of(out.shape(), y);
    }
}
