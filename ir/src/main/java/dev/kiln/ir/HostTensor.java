package dev.kiln.ir;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A dense tensor in host memory, row-major, its values in a float array. The data array is owned
 * by the tensor; callers that hand one in must not change it afterwards.
 *
 * <p>Most tensors are f32. An integer tensor (i64 or i32: token ids, masks; made by {@link #ofLongs}
 * or {@link #ofInts}) holds its integers as exact f32 values, so every backend reads it as it reads
 * any tensor; that is exact for magnitudes up to 2^24 ({@link DType#MAX_EXACT_INT}) and the
 * factories refuse anything larger, naming the element. The dtype is what a model's signature
 * checks an input against.
 */
public final class HostTensor {
    private final Shape shape;
    private final float[] data;
    private final DType dtype;

    private HostTensor(Shape shape, float[] data) { this(shape, data, DType.F32); }

    private HostTensor(Shape shape, float[] data, DType dtype) {
        if (data.length != shape.size())
            throw new ShapeException("tensor of shape " + shape + " needs " + shape.size() + " values, got " + data.length);
        this.shape = shape;
        this.data = data;
        this.dtype = dtype;
    }

    public static HostTensor of(Shape shape, float[] data) { return new HostTensor(shape, data); }

    /** An i64 tensor of these values (copied); each must be at most 2^24 in magnitude (see the class comment). */
    public static HostTensor ofLongs(long[] values, int... dims) { return ofLongs(Shape.of(dims), values); }

    public static HostTensor ofLongs(Shape shape, long[] values) {
        float[] d = new float[values.length];
        for (int i = 0; i < values.length; i++) d[i] = exact(values[i], i, shape);
        return new HostTensor(shape, d, DType.I64);
    }

    /** An i32 tensor of these values (copied); each must be at most 2^24 in magnitude. */
    public static HostTensor ofInts(int[] values, int... dims) {
        Shape shape = Shape.of(dims);
        float[] d = new float[values.length];
        for (int i = 0; i < values.length; i++) d[i] = exact(values[i], i, shape);
        return new HostTensor(shape, d, DType.I32);
    }

    private static float exact(long v, int i, Shape shape) {
        if (Math.abs(v) > DType.MAX_EXACT_INT)
            throw new KilnException("integer tensor of shape " + shape + ": element " + i + " is " + v + ", beyond ±" + DType.MAX_EXACT_INT
                    + " (2^24), the largest magnitude Kiln carries exactly (integers are computed as f32 values)");
        return v;
    }
    public static HostTensor of(float[] data, int... dims) { return new HostTensor(Shape.of(dims), data); }
    public static HostTensor zeros(Shape shape) { return new HostTensor(shape, new float[shape.elementCount()]); }
    public static HostTensor zeros(int... dims) { return zeros(Shape.of(dims)); }

    public static HostTensor full(Shape shape, float value) {
        float[] d = new float[shape.elementCount()];
        Arrays.fill(d, value);
        return new HostTensor(shape, d);
    }

    /** Values drawn uniformly from [lo, hi), reproducibly from the seed. */
    public static HostTensor uniform(Shape shape, long seed, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[shape.elementCount()];
        for (int i = 0; i < d.length; i++) d[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return new HostTensor(shape, d);
    }

    /** Standard-normal values, reproducibly from the seed. */
    public static HostTensor normal(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[shape.elementCount()];
        for (int i = 0; i < d.length; i++) {
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            d[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return new HostTensor(shape, d);
    }

    public Shape shape() { return shape; }
    public TensorType type() { return new TensorType(dtype, shape); }
    public DType dtype() { return dtype; }

    /** The values as longs, for an integer tensor (an f32 tensor's values are truncated toward zero). */
    public long[] longs() {
        long[] v = new long[data.length];
        for (int i = 0; i < v.length; i++) v[i] = (long) data[i];
        return v;
    }
    public int size() { return data.length; }

    /** The backing array, for kernels and interpreters that fill or read it in place. */
    public float[] data() { return data; }

    public float get(int... index) { return data[offset(index)]; }
    public void set(float v, int... index) { data[offset(index)] = v; }

    private int offset(int[] index) {
        if (index.length != shape.rank()) throw new ShapeException("index of rank " + index.length + " into shape " + shape);
        int off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i))
                throw new ShapeException("index " + Arrays.toString(index) + " out of bounds for shape " + shape);
            off = off * shape.dim(i) + index[i];
        }
        return off;
    }

    /** Same data viewed with another shape of equal size (copied, so the two stay independent). */
    public HostTensor reshape(Shape to) { return new HostTensor(to, data.clone(), dtype); }

    public HostTensor copy() { return new HostTensor(shape, data.clone(), dtype); }

    /** ‖this − expected‖₂ / max(‖expected‖₂, tiny): the error measure the backends are judged by. */
    public double relativeL2Error(HostTensor expected) {
        requireSameShape(expected);
        double num = 0, den = 0;
        for (int i = 0; i < data.length; i++) {
            float a = data[i], e = expected.data[i];
            if (Float.isFinite(e)) den += (double) e * e;
            // the same ∞, or NaN on both sides, is a match (∞ − ∞ would make it NaN); a NaN or ∞ against anything else makes the error NaN or ∞
            if (a == e || Float.isNaN(a) && Float.isNaN(e)) continue;
            double d = (double) a - e;
            num += d * d;
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
    }

    /** Largest |this − expected| over all elements. */
    public double maxAbsError(HostTensor expected) {
        requireSameShape(expected);
        double m = 0;
        for (int i = 0; i < data.length; i++) m = Math.max(m, Math.abs((double) data[i] - expected.data[i]));
        return m;
    }

    /** Element-wise |a−b| ≤ atol + rtol·|b|, with NaNs equal to NaNs. */
    public boolean allClose(HostTensor expected, double rtol, double atol) {
        if (!shape.equals(expected.shape)) return false;
        for (int i = 0; i < data.length; i++) {
            float a = data[i], b = expected.data[i];
            if (Float.isNaN(a) || Float.isNaN(b)) { if (Float.isNaN(a) != Float.isNaN(b)) return false; continue; }
            if (a == b) continue;
            if (Math.abs((double) a - b) > atol + rtol * Math.abs((double) b)) return false;
        }
        return true;
    }

    private void requireSameShape(HostTensor other) {
        if (!shape.equals(other.shape)) throw new ShapeException("compared tensors differ in shape: " + shape + " vs " + other.shape);
    }

    @Override public boolean equals(Object o) {
        return o instanceof HostTensor t && shape.equals(t.shape) && dtype == t.dtype && Arrays.equals(data, t.data);
    }
    @Override public int hashCode() { return 31 * shape.hashCode() + Arrays.hashCode(data); }

    @Override public String toString() {
        int n = Math.min(data.length, 8);
        StringBuilder b = new StringBuilder("HostTensor").append(dtype == DType.F32 ? "" : dtype.text()).append(shape).append(" [");
        for (int i = 0; i < n; i++) { if (i > 0) b.append(", "); b.append(data[i]); }
        if (data.length > n) b.append(", ...");
        return b.append(']').toString();
    }
}
