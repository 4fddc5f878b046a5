package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.ShapeException;

/**
 * torch.nn.MaxPool1d, AvgPool1d and AdaptiveAvgPool1d over [N, C, L]: each traced as its 2-D pool over
 * [N, C, 1, L] with a [1, k] window, as {@link Conv1d} is.
 */
public final class Pooling1d {
    private Pooling1d() {}

    private static Tensor pool1d(Module m, Tensor x, java.util.function.UnaryOperator<Tensor> pool2d) {
        if (x.dim() != 3) throw new ShapeException(m + " expects [N, C, L], got " + x.type());
        Tensor y = pool2d.apply(x.view(x.size(0), x.size(1), 1, x.size(2)));
        return y.view(y.size(0), y.size(1), y.size(3));
    }

    public static final class MaxPool1d extends Module {
        private final int k, stride, padding;
        public MaxPool1d(int k) { this(k, k, 0); }
        public MaxPool1d(int k, int stride, int padding) { this.k = k; this.stride = stride; this.padding = padding; }
        @Override public Tensor forward(Tensor x) {
            var op = new dev.kiln.ir.op.MaxPool2d(new int[]{1, k}, new int[]{1, stride}, new int[]{0, padding, 0, padding});
            return pool1d(this, x, t -> call(op, t));
        }
    }

    public static final class AvgPool1d extends Module {
        private final int k, stride, padding;
        private final boolean countIncludePad;
        public AvgPool1d(int k) { this(k, k, 0, true); }
        public AvgPool1d(int k, int stride, int padding, boolean countIncludePad) {
            this.k = k; this.stride = stride; this.padding = padding; this.countIncludePad = countIncludePad;
        }
        @Override public Tensor forward(Tensor x) {
            var op = new dev.kiln.ir.op.AvgPool2d(new int[]{1, k}, new int[]{1, stride}, new int[]{0, padding, 0, padding}, countIncludePad);
            return pool1d(this, x, t -> call(op, t));
        }
    }

    /**
     * torch.nn.AdaptiveAvgPool1d(size): output i averages input [floor(i·L/size), ceil((i+1)·L/size)). A size that
     * divides L is the pool of window and stride L/size; any other has windows of varying length (overlapping
     * when size > L/2), computed as a product with a constant [size, L] averaging matrix (a linear layer).
     */
    public static final class AdaptiveAvgPool1d extends Module {
        private final int size;
        public AdaptiveAvgPool1d(int outputSize) {
            if (outputSize <= 0) throw new IllegalArgumentException("AdaptiveAvgPool1d output size must be positive, got " + outputSize);
            this.size = outputSize;
        }
        @Override public Tensor forward(Tensor x) {
            if (x.dim() != 3) throw new ShapeException(this + " expects [N, C, L], got " + x.type());
            int len = x.size(2);
            if (len % size == 0) {
                int k = len / size;
                var op = new dev.kiln.ir.op.AvgPool2d(new int[]{1, k}, new int[]{1, k}, new int[4], true);
                return pool1d(this, x, t -> call(op, t));
            }
            return call(new dev.kiln.ir.op.Linear(), x, constant("adaptive_avg", averaging(len, size)));
        }
    }

    /** [out, in]: row i holds 1/n over the n inputs of output i's window, as PyTorch's adaptive pools choose them. */
    public static dev.kiln.ir.HostTensor averaging(int in, int out) {
        float[] m = new float[out * in];
        for (int i = 0; i < out; i++) {
            int start = Math.floorDiv(i * in, out), end = Math.ceilDiv((i + 1) * in, out);
            for (int j = start; j < end; j++) m[i * in + j] = 1f / (end - start);
        }
        return dev.kiln.ir.HostTensor.of(dev.kiln.ir.Shape.of(out, in), m);
    }
}
