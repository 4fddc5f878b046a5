package dev.kiln.test.kit;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The dimension sizes generators pick from, smallest first (so shrinking halves them): 1, odd
 * and prime sizes, and sizes just below, at and above one and two vector lengths, where vector
 * loops meet their tails. The vector length is this machine's preferred float species (16 on
 * AVX-512, 8 on AVX2); never hard-coded.
 */
public final class Sizes {
    private Sizes() {}

    /** Floats per preferred vector here. */
    public static final int L = FloatVector.SPECIES_PREFERRED.length();

    /** Small sizes for dimensions that multiply into big work (batch, spatial rows, kernel sizes). */
    public static final int[] SMALL = {1, 2, 3, 4, 5, 7};

    /** Channel and feature sizes, including the vector-length neighbours. */
    public static final int[] WIDE = distinctSorted(1, 2, 3, 5, 7, 8, 11, 13, L - 1, L, L + 1, 2 * L - 1, 2 * L + 1);

    /** Spatial widths (the innermost axis of an image): odd, prime, and around one vector. */
    public static final int[] SPATIAL = distinctSorted(1, 2, 3, 5, 7, 9, 11, L - 1, L, L + 1);

    /** For the bigger graphs: also beyond a kernel's register tile (2 vectors wide, 8 rows) and several tiles. */
    public static final int[] WIDE_BIG = distinctSorted(1, 2, 3, 5, 7, 8, 9, 11, 13, L - 1, L, L + 1, 2 * L - 1, 2 * L + 1,
            3 * L + 1, 4 * L - 1, 4 * L + 1, 8 * L + 3);
    public static final int[] SPATIAL_BIG = distinctSorted(1, 2, 3, 5, 7, 9, 11, L - 1, L, L + 1, 2 * L - 1, 2 * L, 2 * L + 1);

    /**
     * Key counts for attention under a padding mask: just past one and two of the key tiles the CPU
     * kernel streams (4 vectors; OpenCL's are 32 keys, no longer), so whole leading tiles can be masked.
     */
    public static final int[] LONG_KEYS = distinctSorted(4 * L + 1, 8 * L + 3);

    private static int[] distinctSorted(int... sizes) {
        return IntStream.of(sizes).filter(s -> s >= 1).distinct().sorted().toArray();
    }

    /** Whether a size is one of the special ones a property run must have covered. */
    public static boolean nearVectorLength(int d) { return Math.abs(d - L) <= 1 || Math.abs(d - 2 * L) <= 1; }

    public static String describe() {
        return "vector length " + L + "; wide sizes " + Arrays.toString(WIDE) + " (bigger graphs " + Arrays.toString(WIDE_BIG)
                + "); spatial " + Arrays.toString(SPATIAL) + " (bigger graphs " + Arrays.toString(SPATIAL_BIG) + ")";
    }
}
