package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.op.Resize;

/**
 * torch.nn.Upsample (nearest, linear, bilinear; align_corners) and torch.nn.PixelShuffle and
 * PixelUnshuffle, the sub-pixel rearrangements of super-resolution nets.
 */
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

    /**
     * torch.nn.Upsample(scale_factor, mode): the trailing axes ("linear" one, "bilinear" two,
     * "nearest" all of them, of a rank-3 or rank-4 input) grow to floor(size × scale). As PyTorch
     * computes it: nearest takes floor(o / scale); linear with align_corners maps the corners onto
     * each other, without it PyTorch's half-pixel centres; the coordinates use the scale given.
     */
    public static final class Upsample extends Module {
        private final double scale;
        private final String mode;
        private final boolean alignCorners;

        public Upsample(double scaleFactor, String mode) { this(scaleFactor, mode, false); }

        public Upsample(double scaleFactor, String mode, boolean alignCorners) {
            if (!(scaleFactor > 0) || Double.isInfinite(scaleFactor))
                throw new dev.kiln.ir.ShapeException("Upsample scale_factor must be positive, got " + scaleFactor);
            if (!mode.equals("nearest") && !mode.equals("linear") && !mode.equals("bilinear"))
                throw new dev.kiln.ir.UnsupportedOpException("Upsample mode '" + mode + "' is not supported (nearest, linear and bilinear are)");
            if (alignCorners && mode.equals("nearest"))
                throw new dev.kiln.ir.ShapeException("align_corners applies to linear modes only, as in PyTorch");
            this.scale = scaleFactor;
            this.mode = mode;
            this.alignCorners = alignCorners;
        }

        @Override public Tensor forward(Tensor x) {
            int r = x.dim();
            int want = mode.equals("linear") ? 3 : mode.equals("bilinear") ? 4 : r;
            if (r != want || r < 3 || r > 4)
                throw new dev.kiln.ir.ShapeException("Upsample(" + mode + ") takes a rank-" + (mode.equals("nearest") ? "3 or 4" : want)
                        + " input, got " + x.type());
            int[] size = new int[r - 2];
            for (int i = 0; i < size.length; i++) size[i] = (int) Math.floor(x.shape()[2 + i] * (double) (float) scale);
            boolean nearest = mode.equals("nearest");
            Resize op = new Resize(nearest ? Resize.Mode.NEAREST : Resize.Mode.LINEAR,
                    nearest ? Resize.Coord.ASYMMETRIC : alignCorners ? Resize.Coord.ALIGN_CORNERS : Resize.Coord.PYTORCH_HALF_PIXEL,
                    Resize.Nearest.FLOOR, dev.kiln.ir.Ints.of(size), r == 4 ? (float) scale : 0f, (float) scale);
            return call(op, x);
        }
    }
}
