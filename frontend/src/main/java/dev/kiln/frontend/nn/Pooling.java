package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** torch.nn.MaxPool2d, AvgPool2d and AdaptiveAvgPool2d. */
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

    /**
     * torch.nn.AdaptiveAvgPool2d((oh, ow)): output (i, j) averages rows [floor(i·H/oh), ceil((i+1)·H/oh)) and the
     * columns chosen the same way. Size 1 is the mean over H and W; sizes that divide H and W are the pool of window
     * and stride H/oh × W/ow; any other size, whose windows vary in length (and overlap), is the separable product
     * A·X·Bᵀ with constant averaging matrices A [oh, H] and B [ow, W] (see {@link Pooling1d#averaging}).
     */
    public static final class AdaptiveAvgPool2d extends Module {
        private final int oh, ow;
        public AdaptiveAvgPool2d(int outputSize) { this(outputSize, outputSize); }
        public AdaptiveAvgPool2d(int oh, int ow) {
            if (oh <= 0 || ow <= 0) throw new IllegalArgumentException("AdaptiveAvgPool2d output size must be positive, got " + oh + "x" + ow);
            this.oh = oh;
            this.ow = ow;
        }
        @Override public Tensor forward(Tensor x) {
            if (x.dim() != 4) throw new dev.kiln.ir.ShapeException(this + " expects [N, C, H, W], got " + x.type());
            int h = x.size(2), w = x.size(3);
            if (oh == 1 && ow == 1) return call(dev.kiln.ir.op.Reduce.globalAvgPool(), x);
            if (h % oh == 0 && w % ow == 0) {
                int[] k = {h / oh, w / ow};
                return call(new dev.kiln.ir.op.AvgPool2d(k, k, new int[4], true), x);
            }
            Tensor rows = w == ow ? x : call(new dev.kiln.ir.op.Linear(), x, constant("adaptive_avg_w", Pooling1d.averaging(w, ow)));
            return h == oh ? rows : call(new dev.kiln.ir.op.MatMul(), constant("adaptive_avg_h", Pooling1d.averaging(h, oh)), rows);
        }
    }
}
