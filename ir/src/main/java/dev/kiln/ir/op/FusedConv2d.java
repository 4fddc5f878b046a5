package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * A Conv2d with its epilogue fused: y = combine(conv(x, w) + bias, act, extra).
 * Operands: x, weight, bias[O], and an extra tensor of the result's shape when combine != NONE.
 * Produced by epilogue fusion from conv → (add bias/residual) → activation chains.
 */
public record FusedConv2d(int[] stride, int[] padding, int[] dilation, int groups,
                          Act act, Combine combine) implements Op, EpilogueAnchor, PadsInput {
    @Override public Op withEpilogue(Act act, Combine combine) { return new FusedConv2d(stride, padding, dilation, groups, act, combine); }
    @Override public int biasOperand() { return 2; }


    public Conv2d conv() { return new Conv2d(stride, padding, dilation, groups); }

    @Override public TensorType inferType(List<TensorType> in) {
        int n = combine == Combine.NONE ? 3 : 4;
        Checks.arity(this, in, n, n);
        TensorType out = conv().inferType(in.subList(0, 3));
        if (combine != Combine.NONE)
            Checks.require(in.get(3).equals(out), this, "extra operand " + in.get(3) + " must match the result " + out);
        return out;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        HostTensor y = conv().evaluate(in.subList(0, 3));
        return Epilogue.apply(y, act, combine, combine == Combine.NONE ? null : in.get(3));
    }
}
