package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Pad;

/**
 * torch.nn.ReflectionPad2d, ReplicationPad2d, ZeroPad2d and ConstantPad2d: padding of the last two
 * axes, given as PyTorch does, one size for all four sides or (left, right, top, bottom).
 */
public final class Padding {
    private Padding() {}

    /** The shared layer: mode, value and PyTorch's (left, right, top, bottom). */
    public abstract static class Pad2d extends Module {
        private final Pad.Mode mode;
        private final float value;
        private final int left, right, top, bottom;

        Pad2d(Pad.Mode mode, float value, int... padding) {
            if (padding.length != 1 && padding.length != 4)
                throw new ShapeException("padding takes one size or (left, right, top, bottom), got " + padding.length + " values");
            this.mode = mode;
            this.value = value;
            left = padding[0];
            right = padding.length == 1 ? padding[0] : padding[1];
            top = padding.length == 1 ? padding[0] : padding[2];
            bottom = padding.length == 1 ? padding[0] : padding[3];
            if (left < 0 || right < 0 || top < 0 || bottom < 0)
                throw new ShapeException("negative padding (" + left + ", " + right + ", " + top + ", " + bottom + ") is not supported");
        }

        @Override public Tensor forward(Tensor x) {
            int r = x.dim();
            if (r < 2) throw new ShapeException(getClass().getSimpleName() + " pads the last two axes; the input " + x.type() + " has rank " + r);
            int[] pads = new int[2 * r];
            pads[r - 2] = top;
            pads[r - 1] = left;
            pads[2 * r - 2] = bottom;
            pads[2 * r - 1] = right;
            return call(new Pad(mode, pads, value), x);
        }
    }

    /** Mirrors without repeating the edge; each pad must be smaller than its axis. */
    public static final class ReflectionPad2d extends Pad2d {
        public ReflectionPad2d(int... padding) { super(Pad.Mode.REFLECT, 0f, padding); }
    }

    /** Repeats the edge. */
    public static final class ReplicationPad2d extends Pad2d {
        public ReplicationPad2d(int... padding) { super(Pad.Mode.EDGE, 0f, padding); }
    }

    public static final class ZeroPad2d extends Pad2d {
        public ZeroPad2d(int... padding) { super(Pad.Mode.CONSTANT, 0f, padding); }
    }

    public static final class ConstantPad2d extends Pad2d {
        /** padding as PyTorch's tuple (left, right, top, bottom), or one size. */
        public ConstantPad2d(int[] padding, double value) { super(Pad.Mode.CONSTANT, (float) value, padding); }
        public ConstantPad2d(int padding, double value) { this(new int[]{padding}, value); }
    }
}
