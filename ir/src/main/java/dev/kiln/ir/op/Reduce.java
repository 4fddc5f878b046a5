package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * A reduction over some axes (ONNX's ReduceX family, torch's sum/mean/amax/...): each result
 * element combines the input elements that share its kept indices. {@code axes} are sorted,
 * distinct and non-empty; with {@code keepDims} the reduced axes stay as extent 1, else they are
 * dropped (reducing every axis then gives a rank-0 scalar). Global average pooling is
 * {@code Reduce(MEAN, [2,3], true)}.
 */
public record Reduce(Kind kind, Ints axes, boolean keepDims) implements Op {
    public enum Kind {
        SUM, MEAN,
        /** The largest / smallest element, NaN if any is NaN (as the binary MIN/MAX and torch.amax/amin). */
        MAX, MIN,
        PROD,
        /** Σ|x|, sqrt(Σx²), Σx². */
        L1, L2, SUM_SQUARE,
        /** log(Σx). */
        LOG_SUM,
        /** log(Σexp(x)), computed as m + log(Σexp(x − m)) with m the largest element, so it cannot overflow. */
        LOG_SUM_EXP;

        /** The accumulator's start value. */
        public double identity() {
            return switch (this) {
                case MAX -> Double.NEGATIVE_INFINITY;
                case MIN -> Double.POSITIVE_INFINITY;
                case PROD -> 1;
                case SUM, MEAN, L1, L2, SUM_SQUARE, LOG_SUM, LOG_SUM_EXP -> 0;
            };
        }

        /** One step of the accumulation; m is the largest element (read by LOG_SUM_EXP only). */
        public double step(double acc, double x, double m) {
            return switch (this) {
                case SUM, MEAN, LOG_SUM -> acc + x;
                case MAX -> Math.max(acc, x);
                case MIN -> Math.min(acc, x);
                case PROD -> acc * x;
                case L1 -> acc + Math.abs(x);
                case L2, SUM_SQUARE -> acc + x * x;
                case LOG_SUM_EXP -> acc + Math.exp(x - m);
            };
        }

        /** The result from the accumulator over count elements whose largest is m. */
        public double finish(double acc, long count, double m) {
            return switch (this) {
                case SUM, MAX, MIN, PROD, L1, SUM_SQUARE -> acc;
                case MEAN -> acc / count;
                case L2 -> Math.sqrt(acc);
                case LOG_SUM -> Math.log(acc);
                // all −∞ gives −∞ (log 0), a +∞ gives +∞, NaN stays NaN: m is the answer when it is not finite
                case LOG_SUM_EXP -> Double.isFinite(m) ? m + Math.log(acc) : m;
            };
        }

        /** Whether the result is one of the elements, exactly. */
        public boolean selects() { return this == MAX || this == MIN; }
    }

    public Reduce {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(axes, "axes");
        if (axes.isEmpty()) throw new IllegalArgumentException("reduce needs at least one axis");
        for (int i = 0; i < axes.size(); i++) {
            if (axes.get(i) < 0) throw new IllegalArgumentException("reduce axes must be normalised to >= 0, got " + axes);
            if (i > 0 && axes.get(i) <= axes.get(i - 1)) throw new IllegalArgumentException("reduce axes must be sorted and distinct, got " + axes);
        }
    }

    /** The same, from axes given as an array. */
    public Reduce(Kind kind, boolean keepDims, int... axes) { this(kind, Ints.of(axes), keepDims); }

    /** Global average pooling of [N,C,H,W]: the mean over H and W, kept as [N,C,1,1]. */
    public static Reduce globalAvgPool() { return new Reduce(Kind.MEAN, true, 2, 3); }

    /** Whether axis is one of the reduced axes. */
    public boolean reduces(int axis) {
        for (int i = 0; i < axes.size(); i++) if (axes.get(i) == axis) return true;
        return false;
    }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        int[] d = in.get(0).shape().dims();
        Checks.require(axes.get(axes.size() - 1) < d.length, this, "axes " + axes + " out of range for " + in.get(0));
        int[] out = new int[keepDims ? d.length : d.length - axes.size()];
        for (int i = 0, k = 0; i < d.length; i++) {
            if (!reduces(i)) out[k++] = d[i];
            else if (keepDims) out[k++] = 1;
        }
        return TensorType.f32(out);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(List.of(in.get(0).type()));
        int[] d = in.get(0).shape().dims(), idx = new int[d.length];
        float[] x = in.get(0).data();
        int n = out.shape().elementCount();
        long count = x.length / Math.max(1, n);
        // the result element of each input element: its kept indices, row-major
        int[] target = new int[x.length];
        for (int p = 0; p < x.length; p++) {
            Broadcast.unravel(p, d, idx);
            int o = 0;
            for (int i = 0; i < d.length; i++) if (!reduces(i)) o = o * d[i] + idx[i];
            target[p] = o;
        }
        double[] max = new double[n], acc = new double[n];
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        if (kind == Kind.LOG_SUM_EXP) for (int p = 0; p < x.length; p++) max[target[p]] = Math.max(max[target[p]], x[p]);
        java.util.Arrays.fill(acc, kind.identity());
        for (int p = 0; p < x.length; p++) acc[target[p]] = kind.step(acc[target[p]], x[p], max[target[p]]);
        float[] y = new float[n];
        for (int o = 0; o < n; o++) y[o] = (float) kind.finish(acc[o], count, max[o]);
        return HostTensor.of(out.shape(), y);
    }
}
