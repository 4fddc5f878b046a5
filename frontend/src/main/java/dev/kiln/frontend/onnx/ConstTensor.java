package dev.kiln.frontend.onnx;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.kiln.frontend.onnx.OnnxFields.*;

/**
 * A tensor whose value is known at import time: an initializer, a Constant, or the folded
 * result of shape arithmetic. Floating types are held as f32, integer and boolean types as
 * int64 (the ONNX data type is remembered, so Cast and error messages can say what it was).
 * Kiln's IR has f32 tensors only: integer constants live here and must be folded away.
 */
final class ConstTensor {
    private final int dataType;
    private final int[] dims;
    private final float[] floats;
    private final long[] longs;

    private ConstTensor(int dataType, int[] dims, float[] floats, long[] longs) {
        this.dataType = dataType;
        this.dims = dims;
        this.floats = floats;
        this.longs = longs;
    }

    static ConstTensor ofFloats(int[] dims, float[] values) { return new ConstTensor(FLOAT, dims.clone(), values, null); }

    static ConstTensor ofLongs(int[] dims, long[] values) { return new ConstTensor(INT64, dims.clone(), null, values); }

    /** Values given as doubles, stored in the representation of dataType. */
    static ConstTensor of(int dataType, int[] dims, double[] values) {
        if (isFloating(dataType)) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
            return new ConstTensor(dataType, dims.clone(), f, null);
        }
        long[] l = new long[values.length];
        for (int i = 0; i < l.length; i++) l[i] = dataType == BOOL ? (values[i] != 0 ? 1 : 0) : (long) values[i];
        return new ConstTensor(dataType, dims.clone(), null, l);
    }

    static ConstTensor of(HostTensor t) { return ofFloats(t.shape().dims(), t.data().clone()); }

    static boolean isFloating(int dataType) {
        return dataType == FLOAT || dataType == DOUBLE || dataType == FLOAT16 || dataType == BFLOAT16;
    }

    int dataType() { return dataType; }
    boolean isFloating() { return floats != null; }
    int[] dims() { return dims.clone(); }
    int rank() { return dims.length; }
    int size() { return isFloating() ? floats.length : longs.length; }

    double get(int i) { return isFloating() ? floats[i] : longs[i]; }

    long getLong(int i) { return isFloating() ? (long) floats[i] : longs[i]; }

    long[] longs() {
        long[] out = new long[size()];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    double[] doubles() {
        double[] out = new double[size()];
        for (int i = 0; i < out.length; i++) out[i] = get(i);
        return out;
    }

    /** The same values with other dims (same element count). */
    ConstTensor reshape(int[] newDims) {
        return new ConstTensor(dataType, newDims.clone(), floats, longs);
    }

    /** A tensor of outDims whose element p is this tensor's element from[p], copied exactly (data movement ops). */
    ConstTensor select(int[] outDims, int[] from) {
        if (isFloating()) {
            float[] f = new float[from.length];
            for (int p = 0; p < f.length; p++) f[p] = floats[from[p]];
            return new ConstTensor(dataType, outDims.clone(), f, null);
        }
        long[] l = new long[from.length];
        for (int p = 0; p < l.length; p++) l[p] = longs[from[p]];
        return new ConstTensor(dataType, outDims.clone(), null, l);
    }

    /** The values converted to another ONNX data type (Cast). */
    ConstTensor cast(int to) {
        if (to == dataType) return this;
        double[] v = doubles();
        if (!isFloating(to)) for (int i = 0; i < v.length; i++) v[i] = v[i] < 0 ? Math.ceil(v[i]) : Math.floor(v[i]);
        return of(to, dims, v);
    }

    /** As Kiln host data: f32, whatever the type was (integer data is converted). */
    HostTensor toHost() {
        float[] f = new float[size()];
        for (int i = 0; i < f.length; i++) f[i] = isFloating() ? floats[i] : (float) longs[i];
        return HostTensor.of(Shape.of(dims), f);
    }

    /** "int64[3] = [2, -1, 2]", shortened for big tensors. */
    String describe() {
        StringBuilder b = new StringBuilder(dataTypeName(dataType)).append(Arrays.toString(dims).replace(" ", ""));
        if (size() <= 8) {
            b.append(" = [");
            for (int i = 0; i < size(); i++) b.append(i > 0 ? ", " : "").append(isFloating() ? Float.toString(floats[i]) : Long.toString(longs[i]));
            b.append(']');
        }
        return b.toString();
    }

    @Override public String toString() { return describe(); }

    // ---- TensorProto decoding ----

    /** The data of a TensorProto, from raw_data (little-endian) or its typed field. */
    static ConstTensor decode(OnnxModel.Tensor t, String source) {
        String what = source + ": tensor '" + t.name() + "' (at byte " + t.offset() + ")";
        if (t.isExternal())
            throw new KilnException(what + " keeps its data in an external file"
                    + (t.externalLocation().isEmpty() ? "" : " '" + t.externalLocation() + "'")
                    + "; Kiln imports self-contained .onnx files only. Save the model with its weights inside it "
                    + "(onnx.save_model(model, path, save_as_external_data=False); models over 2 GB cannot be imported)");
        int[] dims = new int[t.dims().length];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = t.dims()[i];
            if (d < 0 || d > Integer.MAX_VALUE) throw new MalformedFileException(what + ": dimension " + d + " at index " + i);
            dims[i] = (int) d;
            count = Math.min(count * d, Integer.MAX_VALUE + 1L);
        }
        if (count > Integer.MAX_VALUE) throw new MalformedFileException(what + ": " + Arrays.toString(t.dims()) + " has more than 2^31 elements");
        int n = (int) count, type = t.dataType();
        int width = switch (type) {
            case FLOAT, INT32, UINT32 -> 4;
            case DOUBLE, INT64, UINT64 -> 8;
            case FLOAT16, BFLOAT16, INT16, UINT16 -> 2;
            case INT8, UINT8, BOOL -> 1;
            default -> throw new KilnException(what + " has data type " + dataTypeName(type)
                    + ", which Kiln cannot import (it reads float, float16, bfloat16, float64 and integer/bool tensors)");
        };
        if (t.hasRaw()) {
            if ((long) n * width != t.rawLength())
                throw new MalformedFileException(source + ": at byte " + t.rawOffset() + ": raw_data of tensor '" + t.name() + "' is "
                        + t.rawLength() + " bytes, but " + dataTypeName(type) + Arrays.toString(dims) + " needs " + (long) n * width);
            ByteBuffer b = ByteBuffer.wrap(t.file(), t.rawOffset(), t.rawLength()).order(ByteOrder.LITTLE_ENDIAN);
            if (type == FLOAT) {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) f[i] = b.getFloat();
                return new ConstTensor(FLOAT, dims, f, null);
            }
            if (type == INT64 || type == UINT64) {   // all 64 bits, not through double
                long[] l = new long[n];
                for (int i = 0; i < n; i++) l[i] = b.getLong();
                return new ConstTensor(INT64, dims, null, l);
            }
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = switch (type) {
                    case DOUBLE -> b.getDouble();
                    case INT32 -> b.getInt();
                    case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                    case FLOAT16 -> Float.float16ToFloat(b.getShort());
                    case BFLOAT16 -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
                    case INT16 -> b.getShort();
                    case UINT16 -> b.getShort() & 0xFFFF;
                    case INT8 -> b.get();
                    default -> b.get() & 0xFF;   // UINT8, BOOL
                };
            }
            return of(isFloating(type) ? FLOAT : (type == BOOL ? BOOL : INT64), dims, v);
        }
        // typed fields: float_data (FLOAT), double_data, int64_data, uint64_data, int32_data (all narrower types)
        return switch (type) {
            case FLOAT -> new ConstTensor(FLOAT, dims, checked(t.floatData(), n, what, "float_data"), null);
            case DOUBLE -> of(FLOAT, dims, checked(t.doubleData(), n, what, "double_data"));
            case INT64 -> new ConstTensor(INT64, dims, null, checked(t.int64Data(), n, what, "int64_data"));
            case UINT64, UINT32 -> new ConstTensor(INT64, dims, null, checked(t.uint64Data(), n, what, "uint64_data"));
            default -> {
                long[] raw = checked(t.int32Data(), n, what, "int32_data");
                if (type == FLOAT16 || type == BFLOAT16) {
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++)
                        f[i] = type == FLOAT16 ? Float.float16ToFloat((short) raw[i]) : Float.intBitsToFloat(((int) raw[i] & 0xFFFF) << 16);
                    yield new ConstTensor(FLOAT, dims, f, null);
                }
                yield new ConstTensor(type == BOOL ? BOOL : INT64, dims, null, raw);
            }
        };
    }

    private static float[] checked(float[] data, int n, String what, String field) {
        if (data.length != n) throw new MalformedFileException(what + ": " + field + " holds " + data.length + " values, its dims need " + n);
        return data;
    }

    private static long[] checked(long[] data, int n, String what, String field) {
        if (data.length != n) throw new MalformedFileException(what + ": " + field + " holds " + data.length + " values, its dims need " + n);
        return data;
    }

    private static double[] checked(double[] data, int n, String what, String field) {
        if (data.length != n) throw new MalformedFileException(what + ": " + field + " holds " + data.length + " values, its dims need " + n);
        return data;
    }
}
