package dev.kiln.ir.op;

import java.util.Locale;

/**
 * An element-wise function with its parameters: what a {@link Unary} op computes and what a fused
 * op applies in its epilogue ({@link #NONE} when it applies nothing). A value: two equal Acts
 * compute the same function. In text IR it reads {@code relu}, {@code leaky_relu(0.01)},
 * {@code clip(0.0,6.0)}.
 */
public record Act(Unary.Kind kind, float a, float b) {
    public static final Act NONE = of(Unary.Kind.NONE), RELU = of(Unary.Kind.RELU), SIGMOID = of(Unary.Kind.SIGMOID),
            TANH = of(Unary.Kind.TANH), GELU = of(Unary.Kind.GELU);

    public Act {
        java.util.Objects.requireNonNull(kind, "kind");
        if (kind.params < 2 && b != 0f) throw new IllegalArgumentException(name(kind) + " takes " + kind.params + " parameter(s), got b = " + b);
        if (kind.params < 1 && a != 0f) throw new IllegalArgumentException(name(kind) + " takes no parameters, got a = " + a);
        if (kind == Unary.Kind.CLIP && !(a <= b)) throw new IllegalArgumentException("clip needs min <= max, got " + a + " > " + b);
    }

    public static Act of(Unary.Kind kind) { return new Act(kind, 0f, 0f); }
    public static Act of(Unary.Kind kind, float a) { return new Act(kind, a, 0f); }
    public static Act of(Unary.Kind kind, float a, float b) { return new Act(kind, a, b); }
    public static Act leakyRelu(float slope) { return of(Unary.Kind.LEAKY_RELU, slope); }
    public static Act clip(float min, float max) { return of(Unary.Kind.CLIP, min, max); }

    /** The function as an expression of the element; see {@link Unary.Kind#definition}. */
    public ScalarExpr expr() { return kind.definition(a, b); }

    /** The reference value at x, in double. */
    public double apply(double x) { return expr().eval(x); }

    public boolean isNone() { return kind == Unary.Kind.NONE; }

    @Override public String toString() {
        String n = name(kind);
        return switch (kind.params) {
            case 0 -> n;
            case 1 -> n + "(" + a + ")";
            default -> n + "(" + a + "," + b + ")";
        };
    }

    /** Reads what {@link #toString} writes. */
    public static Act parse(String text) {
        String s = text.strip();
        int open = s.indexOf('(');
        String name = open < 0 ? s : s.substring(0, open);
        Unary.Kind kind;
        try {
            kind = Unary.Kind.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no activation '" + name + "'");
        }
        float[] p = new float[2];
        int n = 0;
        if (open >= 0) {
            if (!s.endsWith(")")) throw new IllegalArgumentException("missing ')' in '" + s + "'");
            String inner = s.substring(open + 1, s.length() - 1).strip();
            if (!inner.isEmpty()) for (String part : inner.split(",")) {
                if (n == 2) throw new IllegalArgumentException("too many parameters in '" + s + "'");
                p[n++] = Float.parseFloat(part.strip());
            }
        }
        if (n != kind.params) throw new IllegalArgumentException(name + " takes " + kind.params + " parameter(s), got " + n);
        return new Act(kind, p[0], p[1]);
    }

    private static String name(Unary.Kind k) { return k.name().toLowerCase(Locale.ROOT); }
}
