package dev.kiln.ir;

import java.util.Arrays;

/** Static tensor dimensions, row-major. Immutable. */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) { this.dims = dims; }

    public static Shape of(int... dims) {
        for (int d : dims) if (d < 0) throw new ShapeException("negative dimension in " + Arrays.toString(dims));
        return new Shape(dims.clone());
    }

    public static Shape scalar() { return new Shape(new int[0]); }

    public int rank() { return dims.length; }
    public int dim(int axis) { return dims[axis < 0 ? axis + dims.length : axis]; }
    public int[] dims() { return dims.clone(); }

    public long size() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    public int elementCount() {
        long n = size();
        if (n > Integer.MAX_VALUE) throw new ShapeException("tensor of shape " + this + " has more than 2^31 elements");
        return (int) n;
    }

    /** Row-major strides in elements. */
    public int[] strides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /** Normalises a possibly negative axis and checks it is in range. */
    public int axis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) throw new ShapeException("axis " + axis + " out of range for shape " + this);
        return a;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
    @Override public int hashCode() { return Arrays.hashCode(dims); }

    /** Text form, e.g. {@code [1,3,224,224]}; {@link #parse} reads it back. */
    @Override public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) { if (i > 0) b.append(','); b.append(dims[i]); }
        return b.append(']').toString();
    }

    public static Shape parse(String text) {
        String t = text.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) throw new IllegalArgumentException("shape must look like [1,2,3]: '" + text + "'");
        String body = t.substring(1, t.length() - 1).strip();
        if (body.isEmpty()) return scalar();
        String[] parts = body.split(",");
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) d[i] = Integer.parseInt(parts[i].strip());
        return of(d);
    }
}
