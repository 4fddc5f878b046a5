package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Resizes the trailing spatial axes of a rank-3 [N,C,W] or rank-4 [N,C,H,W] tensor to size (W, or
 * H and W), as ONNX Resize defines it: each result index maps to a source coordinate (coord), then
 * to the nearest element (nearest's rounding, clamped to the axis) or to the two elements around it
 * weighted linearly (bilinear on two axes), indices clamped at the borders.
 *
 * <p>The coordinate transforms divide by the axis' scale: the scale the model gave (scaleH,
 * scaleW, as ONNX's scales input; PyTorch's scale_factor) when positive, else out/in. They differ
 * when in × scale is not whole (floor(5 × 1.5) = 7 rows, scale 1.5 not 1.4). scaleH is unused at
 * rank 3.
 */
public record Resize(Mode mode, Coord coord, Nearest nearest, Ints size, float scaleH, float scaleW) implements Op {
    public enum Mode { NEAREST, LINEAR }

    /** ONNX coordinate_transformation_mode, from result index o to source coordinate. */
    public enum Coord { ASYMMETRIC, HALF_PIXEL, PYTORCH_HALF_PIXEL, ALIGN_CORNERS }

    /** ONNX nearest_mode: how a source coordinate rounds to an index in NEAREST mode. */
    public enum Nearest { FLOOR, ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, CEIL }

    public Resize {
        java.util.Objects.requireNonNull(mode, "mode");
        java.util.Objects.requireNonNull(coord, "coord");
        java.util.Objects.requireNonNull(nearest, "nearest");
        java.util.Objects.requireNonNull(size, "size");
        if (size.size() < 1 || size.size() > 2 || size.stream().anyMatch(s -> s < 1))
            throw new IllegalArgumentException("resize size must be 1 or 2 positive sizes (W, or H and W), got " + size);
        if (!(scaleH >= 0) || !(scaleW >= 0) || Float.isInfinite(scaleH) || Float.isInfinite(scaleW))
            throw new IllegalArgumentException("resize scales must be finite and ≥ 0 (0: out/in), got " + scaleH + ", " + scaleW);
    }

    /** Scales out/in. */
    public Resize(Mode mode, Coord coord, Nearest nearest, int... size) { this(mode, coord, nearest, Ints.of(size), 0f, 0f); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        TensorType x = in.get(0);
        Checks.require(x.rank() == size.size() + 2, this, "size " + size + " resizes " + size.size() + " trailing axes of a rank-"
                + (size.size() + 2) + " tensor, got " + x);
        int[] d = x.shape().dims();
        for (int i = 0; i < size.size(); i++) d[2 + i] = size.get(i);
        return TensorType.f32(d);
    }

    /** The scale dividing result coordinates along spatial axis a (0: H at rank 4, else W). */
    public double scale(int axis, int in, int out) {
        float given = axis == size.size() - 1 ? scaleW : scaleH;
        return given > 0 ? given : (double) out / in;
    }

    /** The source coordinate of result index o along an axis of in → out elements. */
    public double source(int o, int in, int out, double scale) {
        return switch (coord) {
            case ASYMMETRIC -> o / scale;
            case HALF_PIXEL -> (o + 0.5) / scale - 0.5;
            case PYTORCH_HALF_PIXEL -> out > 1 ? (o + 0.5) / scale - 0.5 : 0;
            case ALIGN_CORNERS -> out == 1 ? 0 : o * (in - 1.0) / (out - 1.0);
        };
    }

    /**
     * Per result index of spatial axis a: the two source indices and the weight of the second,
     * [i0, i1, w] as three arrays (NEAREST: i0 = i1 the nearest index, w = 0). Every backend
     * builds its kernel from these, so all pick the same elements.
     */
    public Taps taps(int axis, int in, int out) {
        int[] i0 = new int[out], i1 = new int[out];
        double[] w = new double[out];
        double scale = scale(axis, in, out);
        for (int o = 0; o < out; o++) {
            double x = source(o, in, out, scale);
            if (mode == Mode.NEAREST) {
                i0[o] = i1[o] = clamp(round(x), in);
            } else {
                double f = Math.floor(x);
                i0[o] = clamp((long) f, in);
                i1[o] = clamp((long) f + 1, in);
                w[o] = i0[o] == i1[o] ? 0 : x - f;
            }
        }
        return new Taps(i0, i1, w);
    }

    /** Source indices and second-tap weights of one spatial axis, by result index. */
    public record Taps(int[] i0, int[] i1, double[] w) {}

    private long round(double x) {
        double f = Math.floor(x);
        boolean half = x - f == 0.5;
        return switch (nearest) {
            case FLOOR -> (long) f;
            case CEIL -> (long) Math.ceil(x);
            case ROUND_PREFER_FLOOR -> half ? (long) f : Math.round(x);
            case ROUND_PREFER_CEIL -> half ? (long) f + 1 : Math.round(x);
        };
    }

    /**
     * (1 − w)·a + w·b, but a itself at w = 0, so a tap with no weight cannot turn an infinite
     * neighbour into NaN (0·∞); the backends interpolate the same way.
     */
    public static double lerp(double a, double b, double w) { return w == 0 ? a : (1 - w) * a + w * b; }

    private static int clamp(long i, int n) { return (int) Math.max(0, Math.min(n - 1, i)); }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] xd = in.get(0).shape().dims();
        boolean twoAxes = size.size() == 2;
        int ih = twoAxes ? xd[2] : 1, iw = xd[xd.length - 1], oh = twoAxes ? size.get(0) : 1, ow = size.get(size.size() - 1);
        Taps ty = twoAxes ? taps(0, ih, oh) : new Taps(new int[1], new int[1], new double[1]), tx = taps(size.size() - 1, iw, ow);
        float[] x = in.get(0).data(), y = new float[out.shape().elementCount()];
        int planes = xd[0] * xd[1];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++) {
                int r0 = p * ih * iw + ty.i0()[oy] * iw, r1 = p * ih * iw + ty.i1()[oy] * iw;
                double wy = ty.w()[oy];
                for (int ox = 0; ox < ow; ox++) {
                    int c0 = tx.i0()[ox], c1 = tx.i1()[ox];
                    double wx = tx.w()[ox];
                    y[(p * oh + oy) * ow + ox] = (float) (mode == Mode.NEAREST ? x[r0 + c0]
                            : lerp(lerp(x[r0 + c0], x[r0 + c1], wx), lerp(x[r1 + c0], x[r1 + c1], wx), wy));
                }
            }
        return HostTensor.of(out.shape(), y);
    }
}
