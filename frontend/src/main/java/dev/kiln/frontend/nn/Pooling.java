package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** torch.nn.MaxPool2d, AvgPool2d and AdaptiveAvgPool2d(1). */
public final class Pooling {
    private Pooling() {}

    public static final class MaxPool2d extends Module {
        private final int k, stride, padding;
        public MaxPool2d(int k) { this(k, k, 0); }
        public MaxPool2d(int k, int stride, int padding) { this.k = k; this.stride = stride; this.padding = padding; }
        @Override public Tensor forward(Tensor x) {
            return call(new dev.kiln.ir.op.MaxPool2d(new int[]{k, k}, new int[]{stride, stride},
                    new int[]{padding, padding, padding, padding}), x);
        }
    }

    public static final class AvgPool2d extends Module {
        private final int k, stride, padding;
        private final boolean countIncludePad;
        public AvgPool2d(int k) { this(k, k, 0, true); }
        public AvgPool2d(int k, int stride, int padding, boolean countIncludePad) {
            this.k = k; this.stride = stride; this.padding = padding; this.countIncludePad = countIncludePad;
        }
        @Override public Tensor forward(Tensor x) {
            return call(new dev.kiln.ir.op.AvgPool2d(new int[]{k, k}, new int[]{stride, stride},
                    new int[]{padding, padding, padding, padding}, countIncludePad), x);
        }
    }

    /** Only output size 1 (global average pooling) is supported. */
    public static final class AdaptiveAvgPool2d extends Module {
        public AdaptiveAvgPool2d(int outputSize) {
            if (outputSize != 1)
                throw new dev.kiln.ir.UnsupportedOpException("AdaptiveAvgPool2d supports output size 1 only, got " + outputSize);
        }
        @Override public Tensor forward(Tensor x) { return call(dev.kiln.ir.op.Reduce.globalAvgPool(), x); }
    }
}
