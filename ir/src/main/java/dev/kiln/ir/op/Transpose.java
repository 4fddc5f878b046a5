package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Axis permutation: result axis i is input axis perm.get(i). */
public record Transpose(Ints perm) implements Op {
    public Transpose {
        boolean[] seen = new boolean[perm.size()];
        for (int i = 0; i < perm.size(); i++) {
            int p = perm.get(i);
            if (p < 0 || p >= perm.size() || seen[p]) throw new IllegalArgumentException("not a permutation: " + perm);
            seen[p] = true;
        }
    }

    /** The same, from an array (copied). */
    public Transpose(int... perm) { this(Ints.of(perm)); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        Checks.require(in.get(0).rank() == perm.size(), this, "permutation " + perm + " does not fit " + in.get(0));
        int[] d = new int[perm.size()];
        for (int i = 0; i < perm.size(); i++) d[i] = in.get(0).dim(perm.get(i));
        return TensorType.f32(d);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] od = out.shape().dims(), is = in.get(0).shape().strides(), idx = new int[od.length];
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int p = 0; p < y.length; p++) {
            Broadcast.unravel(p, od, idx);
            int off = 0;
            for (int i = 0; i < od.length; i++) off += idx[i] * is[perm.get(i)];
            y[p] = x[off];
        }
        return HostTensor.of(out.shape(), y);
    }
}
