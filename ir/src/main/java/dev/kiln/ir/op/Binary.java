package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Element-wise a ∘ b with NumPy broadcasting.
 *
 * <p>The IR is f32 only, so a comparison's mask is an f32 tensor of 1 (true) and 0 (false); ops
 * that read a mask ({@link Where}, {@link Unary.Kind#NOT}) take any non-zero value as true.
 */
public record Binary(Kind kind) implements Op {
    public enum Kind {
        ADD, SUB, MUL, DIV,
        /**
         * The smaller / larger of a and b, NaN if either is NaN (torch.minimum / maximum, and
         * ONNX Min / Max as PyTorch exports them). −0 counts as less than +0, as in Java.
         */
        MIN, MAX,
        /** a &lt; 0 ? a·b : a: PyTorch's PReLU with b its slope, broadcast (per channel: b of shape [C,1,1]). */
        PRELU,
        /** Comparisons: 1 where a ∘ b holds, else 0; false with a NaN operand (IEEE), as ONNX and PyTorch have it. */
        EQ, LT, LE, GT, GE;

        public double apply(double a, double b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
                case MIN -> Math.min(a, b);
                case MAX -> Math.max(a, b);
                case PRELU -> a < 0 ? a * b : a;
                case EQ -> a == b ? 1 : 0;
                case LT -> a < b ? 1 : 0;
                case LE -> a <= b ? 1 : 0;
                case GT -> a > b ? 1 : 0;
                case GE -> a >= b ? 1 : 0;
            };
        }

        /** Whether the result is a 0/1 mask. */
        public boolean comparison() {
            return switch (this) {
                case EQ, LT, LE, GT, GE -> true;
                case ADD, SUB, MUL, DIV, MIN, MAX, PRELU -> false;
            };
        }

        /**
         * Whether operands a few ulps off give a result a few ulps off (see {@link Unary.Kind#total}).
         * A comparison jumps from 0 to 1, so random graphs compare exact values only.
         */
        public boolean total() { return !comparison(); }
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
