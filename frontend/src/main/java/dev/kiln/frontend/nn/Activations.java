package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

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

    /**
     * torch.nn.PReLU: a learnt slope for x &lt; 0, one for every channel (axis 1) or one for all,
     * initialised to 0.25 as PyTorch does. The weight [n] is viewed as [n, 1, ...] to broadcast
     * along axis 1.
     */
    public static final class PReLU extends Module {
        private final int parameters;
        public PReLU() { this(1); }
        public PReLU(int numParameters) {
            this.parameters = numParameters;
            parameter("weight", Shape.of(numParameters), seed -> HostTensor.full(Shape.of(numParameters), 0.25f));
        }
        @Override public Tensor forward(Tensor x) {
            Tensor w = param("weight");
            if (parameters == 1 || x.dim() < 2) return x.prelu(w);
            int[] d = new int[x.dim() - 1];
            java.util.Arrays.fill(d, 1);
            d[0] = parameters;
            return x.prelu(w.view(d));
        }
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

    public static final class ReLU6 extends Module {
        @Override public Tensor forward(Tensor x) { return x.relu6(); }
    }

    public static final class SiLU extends Module {
        @Override public Tensor forward(Tensor x) { return x.silu(); }
    }

    public static final class Hardswish extends Module {
        @Override public Tensor forward(Tensor x) { return x.hardswish(); }
    }

    public static final class Hardsigmoid extends Module {
        @Override public Tensor forward(Tensor x) { return x.hardsigmoid(); }
    }

    public static final class Mish extends Module {
        @Override public Tensor forward(Tensor x) { return x.mish(); }
    }

    public static final class ELU extends Module {
        private final double alpha;
        public ELU(double alpha) { this.alpha = alpha; }
        @Override public Tensor forward(Tensor x) { return x.elu(alpha); }
    }

    public static final class Softplus extends Module {
        @Override public Tensor forward(Tensor x) { return x.softplus(); }
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
