package dev.kiln.test.kit;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tensor data for generated cases. Each tensor takes one {@link Kind}, chosen through
 * {@link Choices} (so shrinking moves it towards the simple kinds), and its values come from a
 * seed. Non-finite values (NaN, ±∞) are never drawn here, except the −∞ of attention
 * {@link #paddingMask padding masks}: {@link #injectNonFinite} adds them for the property that
 * checks how they propagate.
 */
public final class DataGen {
    private DataGen() {}

    /** Simplest first. */
    public enum Kind {
        ZEROS, SMALL_INTS, NORMAL, SIGNED_ZEROS, LARGE, TINY, MIXED;

        /** Cumulative percentages: most tensors are normal; every other kind is common enough to be met in 200 tries. */
        private static final int[] UPTO = {3, 10, 70, 75, 83, 91, 100};

        static Kind choose(Choices c) {
            int r = c.below(100);
            for (int i = 0; ; i++) if (r < UPTO[i]) return values()[i];
        }
    }

    /**
     * What a tensor is for. WEIGHT is normal scaled by 1/√fan-in (so values stay O(1) along a
     * chain) unless its kind says otherwise; POSITIVE is a batch norm's variance, in [0.5, 1.5);
     * NONZERO is a divisor, ±[0.5, 2).
     */
    public enum Role { INPUT, WEIGHT, POSITIVE, NONZERO }

    /** Data for a new tensor: its kind and seed are two choices. */
    public static HostTensor draw(Choices c, Role role, int fanIn, int... dims) {
        Shape s = Shape.of(dims);
        Kind kind = role == Role.POSITIVE || role == Role.NONZERO ? Kind.NORMAL : Kind.choose(c);
        long seed = c.seed();
        return switch (role) {
            case POSITIVE -> HostTensor.uniform(s, seed, 0.5f, 1.5f);
            case NONZERO -> {
                HostTensor t = HostTensor.uniform(s, seed, 0.5f, 2f);
                SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
                for (int i = 0; i < t.size(); i++) if (r.nextBoolean()) t.data()[i] = -t.data()[i];
                yield t;
            }
            case INPUT -> values(s, kind, seed, 1f);
            case WEIGHT -> values(s, kind, seed, (float) (1 / Math.sqrt(Math.max(1, fanIn))));
        };
    }

    /**
     * An additive key-padding mask [B,M,N]: each query row hides a run of leading keys (left
     * padding) behind −∞ and sees the rest through 0. Run lengths are drawn per row from vector and
     * key-tile edges, so a streaming kernel meets rows whose first key tiles are all −∞ next to
     * rows that see everything. Every row keeps its last key: a row masked to its end is NaN in the
     * reference, which would hide the rest of the case from the finite properties.
     */
    public static HostTensor paddingMask(Choices c, int batch, int rows, int keys) {
        int l = Sizes.L;
        int[] lengths = {0, 1, l, 2 * l, 4 * l, keys / 2, keys - 1};
        SplittableRandom r = new SplittableRandom(c.seed());
        float[] d = new float[batch * rows * keys];
        for (int row = 0; row < batch * rows; row++) {
            int pad = Math.min(keys - 1, lengths[r.nextInt(lengths.length)]);
            Arrays.fill(d, row * keys, row * keys + pad, Float.NEGATIVE_INFINITY);
        }
        return HostTensor.of(Shape.of(batch, rows, keys), d);
    }

    /** Values of one kind; NORMAL is scaled by scale. */
    public static HostTensor values(Shape s, Kind kind, long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[s.elementCount()];
        for (int i = 0; i < d.length; i++) {
            d[i] = switch (kind) {
                case ZEROS -> 0f;
                case SMALL_INTS -> r.nextInt(7) - 3;
                case NORMAL -> (float) (gaussian(r) * scale);
                case SIGNED_ZEROS -> r.nextInt(4) == 0 ? (float) gaussian(r) : r.nextBoolean() ? -0f : 0f;
                case LARGE -> sign(r) * (float) Math.pow(10, 3 + 3 * r.nextDouble());
                case TINY -> sign(r) * (float) Math.pow(10, -30 + 24 * r.nextDouble());
                case MIXED -> mixed(r);
            };
        }
        return HostTensor.of(s, d);
    }

    private static float mixed(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0 -> 0f;
            case 1 -> -0f;
            case 2 -> sign(r) * (float) Math.pow(10, 3 + 3 * r.nextDouble());
            case 3 -> sign(r) * (float) Math.pow(10, -12 + 6 * r.nextDouble());
            case 4 -> sign(r) * Float.MIN_NORMAL * (float) r.nextDouble();   // subnormal
            default -> (float) gaussian(r);
        };
    }

    private static float sign(SplittableRandom r) { return r.nextBoolean() ? 1f : -1f; }

    private static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * The case with NaN, +∞ and −∞ written into some input elements (at least one in all),
     * chosen after the whole graph, so the same seed gives the same graph with and without them.
     */
    public static Case injectNonFinite(Case c, Choices ch) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        boolean any = false;
        int i = 0, n = c.inputs().size();
        for (var e : c.inputs().entrySet()) {
            HostTensor t = e.getValue().copy();
            boolean last = ++i == n;
            if (ch.chance(70) || (last && !any)) {
                for (int k = 1 + ch.below(3); k > 0; k--) {
                    float v = ch.pick(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
                    t.data()[ch.below(t.size())] = v;
                }
                any = true;
            }
            out.put(e.getKey(), t);
        }
        return new Case(c.graph(), out);
    }

    /** Every input and constant of a graph, by name (the data the shrinker may simplify). */
    public static Map<String, HostTensor> tensors(Case c) {
        Map<String, HostTensor> all = new LinkedHashMap<>(c.inputs());
        Graph g = c.graph();
        for (String k : g.constants().keySet()) all.put(k, g.weight(k));
        return all;
    }
}
