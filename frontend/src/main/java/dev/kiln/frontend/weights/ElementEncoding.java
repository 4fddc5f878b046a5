package dev.kiln.frontend.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How one element is stored in a weight file (always little-endian here), and how to widen
 * or narrow it to the f32 that {@link dev.kiln.ir.HostTensor} holds. F64 and the integer
 * kinds are rounded to the nearest float; that can lose precision, which is accepted
 * because Kiln computes in f32 anyway.
 */
enum ElementEncoding {
    F32(4), F16(2), BF16(2), F64(8), I32(4), I64(8);

    final int bytes;

    ElementEncoding(int bytes) { this.bytes = bytes; }

    /** Decodes {@code count} elements starting at {@code offset}; the caller has checked the bounds. */
    float[] decode(byte[] src, int offset, int count) {
        ByteBuffer b = ByteBuffer.wrap(src, offset, count * bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        switch (this) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> { for (int i = 0; i < count; i++) out[i] = Float.float16ToFloat(b.getShort(2 * i)); }
            // bf16 is the top half of an f32, so widening is a shift.
            case BF16 -> { for (int i = 0; i < count; i++) out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16); }
            case F64 -> { for (int i = 0; i < count; i++) out[i] = (float) b.getDouble(8 * i); }
            case I32 -> { for (int i = 0; i < count; i++) out[i] = b.getInt(4 * i); }
            case I64 -> { for (int i = 0; i < count; i++) out[i] = b.getLong(8 * i); }
        }
        return out;
    }

    /** Writes f32 values little-endian into {@code dst} at {@code offset}. */
    static void encodeF32(float[] values, byte[] dst, int offset) {
        ByteBuffer.wrap(dst, offset, values.length * 4).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
    }
}
