package dev.kiln.test.kit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The decisions a generator makes, each an int in [0, n), recorded in order so that the
 * shrinker can replay an edited sequence (some deleted, some lowered) and get a smaller case.
 * Generators keep one rule: choice 0 is always the simplest option (the smallest size, the
 * first input, no extra node, plain data), so lowering choices simplifies the case. Past the
 * end of a replayed sequence every choice is 0; a recorded value too large for its bound is
 * clamped. {@link #begin()}/{@link #end()} mark spans (one generator step each) so the shrinker
 * can delete a whole step at once.
 */
public final class Choices {
    private final SplittableRandom random;     // null when replaying
    private final int[] replay;
    private int[] drawn = new int[64];
    private int size;
    private final List<int[]> spans = new ArrayList<>();
    private final Deque<Integer> open = new ArrayDeque<>();

    private Choices(SplittableRandom random, int[] replay) {
        this.random = random;
        this.replay = replay;
    }

    /** Fresh random choices, reproducibly from the seed. */
    public static Choices random(long seed) { return new Choices(new SplittableRandom(seed), new int[0]); }

    /** The given choices in order, then zeros. */
    public static Choices replay(int[] sequence) { return new Choices(null, sequence.clone()); }

    /** A choice in [0, n). */
    public int below(int n) {
        if (n <= 0) throw new IllegalArgumentException("below(" + n + ")");
        int v;
        if (size < replay.length) v = Math.min(Math.max(replay[size], 0), n - 1);
        else v = random == null ? 0 : random.nextInt(n);
        if (size == drawn.length) drawn = Arrays.copyOf(drawn, size * 2);
        drawn[size++] = v;
        return v;
    }

    /** True with this probability in percent; shrinks to false. */
    public boolean chance(int percent) { return below(100) >= 100 - percent; }

    /** Uniform in [lo, hi]; shrinks to lo. */
    public int between(int lo, int hi) { return lo + below(hi - lo + 1); }

    /** An entry of the table, which lists the simplest first. */
    public int pickInt(int... table) { return table[below(table.length)]; }

    public float pickFloat(float... table) { return table[below(table.length)]; }

    @SafeVarargs public final <T> T pick(T... options) { return options[below(options.length)]; }

    public <T> T pick(List<T> options) { return options.get(below(options.size())); }

    /** A seed for bulk data (tensor values are drawn from it, not one choice each); shrinks to 0. */
    public long seed() { return below(1 << 30); }

    /** Starts a span: the choices of one step, which the shrinker may delete together. */
    public void begin() { open.push(size); }

    public void end() {
        int start = open.pop();
        if (size > start) spans.add(new int[]{start, size});
    }

    /** Every choice drawn so far. */
    public int[] sequence() { return Arrays.copyOf(drawn, size); }

    /** Spans as [start, end) index pairs, innermost first. */
    public List<int[]> spans() { return List.copyOf(spans); }

    /** Shortlex order: shorter is simpler, then the first lower choice. */
    public static int compare(int[] a, int[] b) {
        if (a.length != b.length) return Integer.compare(a.length, b.length);
        return Arrays.compare(a, b);
    }
}
