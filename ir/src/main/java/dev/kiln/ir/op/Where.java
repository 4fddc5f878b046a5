package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * y = cond ? a : b element by element, the three operands broadcast together (ONNX Where,
 * torch.where, and masked_fill as PyTorch exports it). cond is a mask: an f32 tensor read as
 * true where it is non-zero (NaN included, as C and PyTorch cast a float to bool), since the IR
 * has no bool dtype ({@link Binary} comparisons make masks of 1 and 0). Each result element is
 * one operand element, unrounded.
 */
public record Where() implements Op {
    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 3, 3);
        int[] ab = Broadcast.shape(this, in.get(1).shape().dims(), in.get(2).shape().dims());
        return TensorType.f32(Broadcast.shape(this, in.get(0).shape().dims(), ab));
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        int[] od = out.dims(), cd = in.get(0).shape().dims(), ad = in.get(1).shape().dims(), bd = in.get(2).shape().dims();
        float[] cond = in.get(0).data(), a = in.get(1).data(), b = in.get(2).data(), y = new float[out.elementCount()];
        int[] idx = new int[od.length];
        for (int p = 0; p < y.length; p++) {
            Broadcast.unravel(p, od, idx);
            y[p] = cond[Broadcast.offset(idx, cd)] != 0 ? a[Broadcast.offset(idx, ad)] : b[Broadcast.offset(idx, bd)];
        }
        return HostTensor.of(out, y);
    }
}
