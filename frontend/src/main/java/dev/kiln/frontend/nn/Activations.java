package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** The activation layers, as modules so they can sit in a Sequential. */
public final class Activations {
    private Activations() {}

    public static final class ReLU extends Module {
        @Override public Tensor forward(Tensor x) { return x.relu(); }
    }

    public static final class LeakyReLU extends Module {
        private final double slope;
        public LeakyReLU(double slope) { this.slope = slope; }
        @Override public Tensor forward(Tensor x) { return x.leakyRelu(slope); }
    }

    public static final class Sigmoid extends Module {
        @Override public Tensor forward(Tensor x) { return x.sigmoid(); }
    }

    public static final class Tanh extends Module {
        @Override public Tensor forward(Tensor x) { return x.tanh(); }
    }

    public static final class GELU extends Module {
        @Override public Tensor forward(Tensor x) { return x.gelu(); }
    }

    public static final class Softmax extends Module {
        private final int dim;
        public Softmax(int dim) { this.dim = dim; }
        @Override public Tensor forward(Tensor x) { return x.softmax(dim); }
    }

    public static final class Flatten extends Module {
        @Override public Tensor forward(Tensor x) { return x.flatten(1); }
    }
}
