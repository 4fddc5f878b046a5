package dev.kiln.ir;

/** The static type of an IR value: element type and shape. Text form {@code f32[1,3,8,8]}. */
public record TensorType(DType dtype, Shape shape) {
    public static TensorType f32(int... dims) { return new TensorType(DType.F32, Shape.of(dims)); }

    public int rank() { return shape.rank(); }
    public int dim(int axis) { return shape.dim(axis); }
    public long bytes() { return shape.size() * dtype.bytes(); }

    @Override public String toString() { return dtype.text() + shape; }

    public static TensorType parse(String text) {
        int b = text.indexOf('[');
        if (b < 0) throw new IllegalArgumentException("tensor type must look like f32[1,2]: '" + text + "'");
        return new TensorType(DType.parse(text.substring(0, b).strip()), Shape.parse(text.substring(b)));
    }
}
