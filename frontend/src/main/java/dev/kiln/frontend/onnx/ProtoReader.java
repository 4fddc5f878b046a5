package dev.kiln.frontend.onnx;

import dev.kiln.ir.MalformedFileException;

import java.nio.charset.StandardCharsets;

/**
 * A reader of the protobuf wire format over a window [pos, limit) of one byte array: varints,
 * fixed 32/64-bit values, length-delimited fields (strings, bytes, sub-messages) and packed
 * repeated scalars. Offsets stay absolute in the file, so every error names the file and the
 * byte where reading failed. Groups (wire types 3 and 4) are refused: ONNX never uses them.
 *
 * <p>Usage: {@code while (r.next()) switch (r.field()) { case 1 -> ...; default -> r.skip(); }}
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private final byte[] bytes;
    private final String source;
    private final String message;
    private int pos;
    private final int limit;
    private int field, wireType, tagAt;

    ProtoReader(byte[] bytes, String source, String message) { this(bytes, source, message, 0, bytes.length); }

    private ProtoReader(byte[] bytes, String source, String message, int start, int limit) {
        this.bytes = bytes;
        this.source = source;
        this.message = message;
        this.pos = start;
        this.limit = limit;
    }

    /** Reads the next tag; false at the end of this message. */
    boolean next() {
        if (pos >= limit) return false;
        tagAt = pos;
        long tag = readVarint();
        field = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        if (field <= 0 || tag >>> 3 > 0x1FFFFFFF)
            throw malformed(tagAt, "invalid field number " + (tag >>> 3) + " in " + message + ": not a protobuf (ONNX) file");
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32)
            throw malformed(tagAt, "invalid wire type " + wireType + " for field " + field + " of " + message
                    + ": not a protobuf (ONNX) file, or a corrupted one");
        return true;
    }

    int field() { return field; }

    /** Byte offset of the current field's tag. */
    int tagOffset() { return tagAt; }

    long varint() {
        expect(VARINT);
        return readVarint();
    }

    int int32() { return (int) varint(); }

    float fixed32Float() {
        expect(FIXED32);
        return Float.intBitsToFloat(readFixed32());
    }

    String string() {
        int[] span = span();
        return new String(bytes, span[0], span[1], StandardCharsets.UTF_8);
    }

    /** A length-delimited field as [start offset, length] in the file, without copying. */
    int[] span() {
        expect(LENGTH_DELIMITED);
        int at = pos;
        long n = readVarint();
        if (n < 0 || n > limit - pos)
            throw malformed(at, "truncated: field " + field + " of " + message + " declares " + n + " bytes but only "
                    + (limit - pos) + " remain" + (limit == bytes.length ? " in the file" : " in the enclosing message"));
        int start = pos;
        pos += (int) n;
        return new int[]{start, (int) n};
    }

    /** The current length-delimited field as a nested message reader. */
    ProtoReader message(String name) {
        int[] s = span();
        return new ProtoReader(bytes, source, name, s[0], s[0] + s[1]);
    }

    /** Appends the current field's values to out: one varint, or a packed run of them. */
    void int64s(LongList out) {
        if (wireType == VARINT) { out.add(readVarint()); return; }
        ProtoReader packed = message(message + " packed field " + field);
        while (packed.pos < packed.limit) out.add(packed.readVarint());
    }

    /** Appends the current field's values to out: one fixed32 float, or a packed run of them. */
    void floats(FloatList out) {
        if (wireType == FIXED32) { out.add(Float.intBitsToFloat(readFixed32())); return; }
        ProtoReader packed = message(message + " packed field " + field);
        if ((packed.limit - packed.pos) % 4 != 0)
            throw malformed(packed.pos, "packed floats of field " + field + " in " + message + " are " + (packed.limit - packed.pos)
                    + " bytes, not a multiple of 4");
        while (packed.pos < packed.limit) out.add(Float.intBitsToFloat(packed.readFixed32()));
    }

    /** Appends the current field's values to out: one fixed64 double, or a packed run of them. */
    void doubles(DoubleList out) {
        if (wireType == FIXED64) { out.add(Double.longBitsToDouble(readFixed64())); return; }
        ProtoReader packed = message(message + " packed field " + field);
        if ((packed.limit - packed.pos) % 8 != 0)
            throw malformed(packed.pos, "packed doubles of field " + field + " in " + message + " are " + (packed.limit - packed.pos)
                    + " bytes, not a multiple of 8");
        while (packed.pos < packed.limit) out.add(Double.longBitsToDouble(packed.readFixed64()));
    }

    /** Skips the current field, whatever its wire type. */
    void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(8);
            case FIXED32 -> advance(4);
            case LENGTH_DELIMITED -> span();
            default -> throw new IllegalStateException("wire type " + wireType);
        }
    }

    MalformedFileException malformed(int offset, String detail) {
        return new MalformedFileException(source + ": at byte " + offset + ": " + detail);
    }

    private void expect(int wt) {
        if (wireType != wt)
            throw malformed(tagAt, "field " + field + " of " + message + " has wire type " + wireType + ", expected " + wt
                    + ": not an ONNX file, or a corrupted one");
    }

    private long readVarint() {
        long v = 0;
        int at = pos;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) throw malformed(at, "truncated varint in " + message);
            byte b = bytes[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
        throw malformed(at, "varint longer than 10 bytes in " + message);
    }

    private int readFixed32() {
        int at = pos;
        advance(4);
        return (bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8 | (bytes[at + 2] & 0xFF) << 16 | (bytes[at + 3] & 0xFF) << 24;
    }

    private long readFixed64() {
        long lo = readFixed32() & 0xFFFFFFFFL;
        long hi = readFixed32() & 0xFFFFFFFFL;
        return hi << 32 | lo;
    }

    private void advance(int n) {
        if (n > limit - pos) throw malformed(pos, "truncated: field " + field + " of " + message + " needs " + n + " bytes, "
                + (limit - pos) + " remain");
        pos += n;
    }

    /** Growable primitive lists, so packed data is not boxed. */
    static final class LongList {
        private long[] a = new long[8];
        private int n;
        void add(long v) { if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2); a[n++] = v; }
        long[] toArray() { return java.util.Arrays.copyOf(a, n); }
        int size() { return n; }
    }

    static final class FloatList {
        private float[] a = new float[8];
        private int n;
        void add(float v) { if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2); a[n++] = v; }
        float[] toArray() { return java.util.Arrays.copyOf(a, n); }
        int size() { return n; }
    }

    static final class DoubleList {
        private double[] a = new double[8];
        private int n;
        void add(double v) { if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2); a[n++] = v; }
        double[] toArray() { return java.util.Arrays.copyOf(a, n); }
        int size() { return n; }
    }
}
