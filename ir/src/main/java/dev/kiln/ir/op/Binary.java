package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Element-wise a ∘ b with NumPy broadcasting. */
public record Binary(Kind kind) implements Op {
    public enum Kind {
        ADD, SUB, MUL, DIV;

        public double apply(double a, double b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
            };
        }
    }

    public Binary {
        java.util.Objects.requireNonNull(kind, "kind");
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 2, 2);
        return TensorType.f32(Broadcast.shape(this, in.get(0).shape().dims(), in.get(1).shape().dims()));
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        int[] od = out.dims(), ad = in.get(0).shape().dims(), bd = in.get(1).shape().dims();
        float[] a = in.get(0).data(), b = in.get(1).data(), y = new float[out.elementCount()];
        int[] idx = new int[od.length];
        for (int p = 0; p < y.length; p++) {
            Broadcast.unravel(p, od, idx);
            y[p] = (float) kind.apply(a[Broadcast.offset(idx, ad)], b[Broadcast.offset(idx, bd)]);
        }
        return HostTensor.of(out, y);
    }
}
