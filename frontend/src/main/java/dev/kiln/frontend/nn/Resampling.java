package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** torch.nn.PixelShuffle and PixelUnshuffle: the sub-pixel rearrangements of super-resolution nets. */
public final class Resampling {
    private Resampling() {}

    public static final class PixelShuffle extends Module {
        private final int r;
        public PixelShuffle(int upscaleFactor) { this.r = upscaleFactor; }
        @Override public Tensor forward(Tensor x) { return x.pixelShuffle(r); }
    }

    public static final class PixelUnshuffle extends Module {
        private final int r;
        public PixelUnshuffle(int downscaleFactor) { this.r = downscaleFactor; }
        @Override public Tensor forward(Tensor x) { return x.pixelUnshuffle(r); }
    }
}
