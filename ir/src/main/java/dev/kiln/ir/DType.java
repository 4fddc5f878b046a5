package dev.kiln.ir;

/**
 * Element types. Kiln computes in f32. I64 and I32 are the types of integer graph inputs (token
 * ids, masks): their values are carried in f32 storage, which holds every integer of magnitude up
 * to 2^24 exactly, and {@link HostTensor#ofLongs} refuses any other. The rest are named so formats can refer to them.
 */
public enum DType {
    F32("f32", 4), F16("f16", 2), BF16("bf16", 2), I8("i8", 1), I32("i32", 4), I64("i64", 8);

    /** The largest magnitude below which every integer has an exact f32: what an integer tensor may hold. */
    public static final long MAX_EXACT_INT = 1L << 24;

    private final String text;
    private final int bytes;

    DType(String text, int bytes) { this.text = text; this.bytes = bytes; }

    public String text() { return text; }
    public int bytes() { return bytes; }

    /** Whether values of this type are integers (carried as exact f32 values, see the class comment). */
    public boolean isInteger() { return this == I32 || this == I64; }

    public static DType parse(String s) {
        for (DType d : values()) if (d.text.equals(s)) return d;
        throw new IllegalArgumentException("unknown dtype '" + s + "'");
    }
}
