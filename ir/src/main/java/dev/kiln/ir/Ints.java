package dev.kiln.ir;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * An immutable list of ints that compares by value: the type of every int-list op attribute
 * (strides, paddings, permutations, reshape targets, slice bounds). A record holding an
 * {@code int[]} would compare and hash the array's identity, so two ops built alike from
 * different arrays would not be equal; holding an {@code Ints} they are.
 *
 * <p>Text form {@code [1,2,3]} (no spaces; {@code []} when empty), which {@link #parse} reads
 * back: what the text IR prints for such attributes.
 */
public final class Ints {
    private final int[] values;

    private Ints(int[] values) { this.values = values; }

    /** The values, copied: changing the array afterwards does not change this list. */
    public static Ints of(int... values) { return new Ints(values.clone()); }

    /** n copies of v, e.g. {@code filled(4, 0)} for no padding. */
    public static Ints filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return new Ints(a);
    }

    public int get(int i) { return values[i]; }
    public int size() { return values.length; }
    public boolean isEmpty() { return values.length == 0; }

    /** A fresh copy of the values, which the caller may change. */
    public int[] toArray() { return values.clone(); }

    public IntStream stream() { return Arrays.stream(values); }

    @Override public boolean equals(Object o) { return o instanceof Ints i && Arrays.equals(values, i.values); }
    @Override public int hashCode() { return Arrays.hashCode(values); }

    @Override public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) { if (i > 0) b.append(','); b.append(values[i]); }
        return b.append(']').toString();
    }

    /** Reads what {@link #toString} writes; spaces around the values are allowed. */
    public static Ints parse(String text) {
        String t = text.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) throw new IllegalArgumentException("int list must look like [1,2,3]: '" + text + "'");
        String body = t.substring(1, t.length() - 1).strip();
        if (body.isEmpty()) return new Ints(new int[0]);
        String[] parts = body.split(",");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Integer.parseInt(parts[i].strip());
        return new Ints(v);
    }
}
