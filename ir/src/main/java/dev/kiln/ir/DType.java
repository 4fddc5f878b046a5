package dev.kiln.ir;

/** Element types. Only F32 is computed today; the others are named so formats can refer to them. */
public enum DType {
    F32("f32", 4), F16("f16", 2), BF16("bf16", 2), I8("i8", 1), I64("i64", 8);

    private final String text;
    private final int bytes;

    DType(String text, int bytes) { this.text = text; this.bytes = bytes; }

    public String text() { return text; }
    public int bytes() { return bytes; }

    public static DType parse(String s) {
        for (DType d : values()) if (d.text.equals(s)) return d;
        throw new IllegalArgumentException("unknown dtype '" + s + "'");
    }
}
