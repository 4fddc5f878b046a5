package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * A Linear with its epilogue fused: y = combine(x·weightᵀ + bias, act, extra).
 * Operands: x, weight[N,K], bias[N], and extra (result-shaped) when combine != NONE.
 */
public record FusedLinear(Act act, Combine combine) implements Op, EpilogueAnchor {
    @Override public Op withEpilogue(Act act, Combine combine) { return new FusedLinear(act, combine); }
    @Override public int biasOperand() { return 2; }
    @Override public int biasAxis(int rank) { return rank - 1; }

    private static final Linear LINEAR = new Linear();

    @Override public TensorType inferType(List<TensorType> in) {
        int n = combine == Combine.NONE ? 3 : 4;
        Checks.arity(this, in, n, n);
        TensorType out = LINEAR.inferType(in.subList(0, 3));
        if (combine != Combine.NONE)
            Checks.require(in.get(3).equals(out), this, "extra operand " + in.get(3) + " must match the result " + out);
        return out;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        HostTensor y = LINEAR.evaluate(in.subList(0, 3));
        return Epilogue.apply(y, act, combine, combine == Combine.NONE ? null : in.get(3));
    }
}
