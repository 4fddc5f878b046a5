package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Element-wise activation. {@code alpha} is LeakyReLU's negative slope and is 0 for the others.
 * The same kinds serve as fused epilogues (see {@link Activation}).
 */
public record Unary(Kind kind, float alpha) implements Op {
    public enum Kind {
        RELU, LEAKY_RELU, SIGMOID, TANH, GELU, EXP;

        public double apply(double x, double alpha) {
            return switch (this) {
                case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0.0);
                case LEAKY_RELU -> x >= 0 || Double.isNaN(x) ? x : alpha * x;
                case SIGMOID -> ScalarMath.sigmoid(x);
                case TANH -> Math.tanh(x);
                case GELU -> ScalarMath.gelu(x);
                case EXP -> Math.exp(x);
            };
        }
    }

    public Unary {
        java.util.Objects.requireNonNull(kind, "kind");
        if (kind != Kind.LEAKY_RELU && alpha != 0f) throw new IllegalArgumentException(kind + " takes no alpha, got " + alpha);
    }

    public static Unary of(Kind kind) { return new Unary(kind, 0f); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        return in.get(0);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        float[] x = in.get(0).data(), y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) kind.apply(x[i], alpha);
        return HostTensor.of(in.get(0).shape(), y);
    }
}
