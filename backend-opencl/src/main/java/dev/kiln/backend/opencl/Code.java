package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.ScalarExpr;

import java.util.HashMap;
import java.util.Map;

/**
 * The OpenCL C vocabulary the kernel generators share: float literals, vector types and loads,
 * index arithmetic, and the element-wise functions of the fused epilogues.
 */
final class Code {
    private Code() {}

    /**
     * What every program starts with (activations are written inline from their ir definitions:
     * {@link #activation}). kiln_tanh: PoCL's tanh gives ±0.99999994 where tanh has saturated to
     * ±1 in f32 (|x| ≥ 9.1; OpenCL allows 5 ulps), so 1 + tanh(x) was not 0 and GELU-tanh(−∞)
     * came out −∞ instead of NaN (−∞ · 0), as in the reference and PyTorch.
     */
    static final String PRELUDE = """
            // Kiln OpenCL C
            inline float kiln_tanh(float x) { return fabs(x) >= 9.1f ? copysign(1.0f, x) : tanh(x); }
            """;

    /** A float literal that OpenCL C reads back to the same value. */
    static String lit(float f) {
        if (Float.isNaN(f)) return "NAN";
        if (Float.isInfinite(f)) return f > 0 ? "INFINITY" : "(-INFINITY)";
        String s = Float.toString(f) + "f";
        return f < 0 ? "(" + s + ")" : s;
    }

    /** "float" for width 1, else "float4" etc. */
    static String floatN(int width) { return width == 1 ? "float" : "float" + width; }

    /** Loads width consecutive floats at pointer expression p (width 1: a plain read). */
    static String vload(int width, String p) { return width == 1 ? "*(" + p + ")" : "vload" + width + "(0, " + p + ")"; }

    /** A vector of width copies of a scalar expression. */
    static String splat(int width, String scalar) { return width == 1 ? scalar : "(" + floatN(width) + ")(" + scalar + ")"; }

    /** Lane i of a vector expression (".s3", ".sa"); the expression itself for width 1. */
    static String lane(int width, String vector, int i) { return width == 1 ? vector : vector + ".s" + Integer.toHexString(i); }

    /** Row-major unravelling of a flat index expression over dims; size-1 axes give "0". */
    static String[] unravel(String flat, int[] dims) {
        String[] idx = new String[dims.length];
        long inner = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] == 1) idx[i] = "0";
            else {
                String q = inner == 1 ? flat : "(" + flat + ") / " + inner;
                boolean outermost = true;
                for (int j = 0; j < i; j++) if (dims[j] != 1) outermost = false;
                idx[i] = outermost ? "(" + q + ")" : "((" + q + ") % " + dims[i] + ")";
            }
            inner *= dims[i];
        }
        return idx;
    }

    /** Declares "const int name0 = ...;" for each unravelled axis and returns the names (or "0"). */
    static String[] declareUnravel(StringBuilder b, String indent, String name, String flat, int[] dims) {
        String[] e = unravel(flat, dims), out = new String[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (e[i].equals("0")) { out[i] = "0"; continue; }
            out[i] = name + i;
            b.append(indent).append("const int ").append(out[i]).append(" = ").append(e[i]).append(";\n");
        }
        return out;
    }

    /**
     * The activation applied to the C expression x, rendered from its one definition in ir
     * ({@link Act#expr}). Comparisons keep C's IEEE semantics (false with a NaN), as the reference's;
     * a {@code Let} is substituted (the kernels are built without fast-math, and the compiler
     * shares the common subexpressions).
     */
    static String activation(Act a, String x) { return a.isNone() ? x : render(a.expr(), "(" + x + ")", Map.of()); }

    private static String render(ScalarExpr e, String x, Map<String, String> env) {
        return switch (e) {
            case ScalarExpr.X ignored -> x;
            case ScalarExpr.Const k -> lit(k.value());
            case ScalarExpr.Ref r -> env.get(r.name());
            case ScalarExpr.Let l -> {
                Map<String, String> inner = new HashMap<>(env);
                inner.put(l.name(), "(" + render(l.value(), x, env) + ")");
                yield render(l.body(), x, inner);
            }
            case ScalarExpr.Apply1 a -> {
                String v = render(a.a(), x, env);
                yield switch (a.fn()) {
                    case NEG -> "(-" + v + ")";
                    case ABS -> "fabs(" + v + ")";
                    case EXP -> "exp(" + v + ")";
                    case LOG -> "log(" + v + ")";
                    case TANH -> "kiln_tanh(" + v + ")";
                    case ERF -> "erf(" + v + ")";
                    case SQRT -> "sqrt(" + v + ")";
                    case FLOOR -> "floor(" + v + ")";
                    case CEIL -> "ceil(" + v + ")";
                    case RINT -> "rint(" + v + ")";
                };
            }
            // C99's pow has Math.pow's rules for negative bases, zeros and non-finite values
            case ScalarExpr.Apply2 a when a.fn() == ScalarExpr.Fn2.POW -> "pow(" + render(a.a(), x, env) + ", " + render(a.b(), x, env) + ")";
            case ScalarExpr.Apply2 a -> "(" + render(a.a(), x, env) + switch (a.fn()) {
                case ADD -> " + ";
                case SUB -> " - ";
                case MUL -> " * ";
                case DIV -> " / ";
                case POW -> throw new IllegalStateException("POW is rendered above");
            } + render(a.b(), x, env) + ")";
            case ScalarExpr.Select s -> "(" + render(s.a(), x, env) + switch (s.cmp()) {
                case LT -> " < ";
                case LE -> " <= ";
                case GT -> " > ";
                case GE -> " >= ";
                case EQ -> " == ";
                case NE -> " != ";
            } + render(s.b(), x, env) + " ? " + render(s.ifTrue(), x, env) + " : " + render(s.ifFalse(), x, env) + ")";
        };
    }

    /**
     * The one place the OpenCL backend turns an {@link Epilogue} into code: one C expression of
     * the already biased value t and the extra operand's element (null when it reads none). Each
     * run of activations is rendered from its composed definition ({@link Epilogue#stages}), the
     * add or mul of the extra at its place.
     */
    static String epilogue(String t, Epilogue e, String extra) {
        String v = "(" + t + ")";
        for (Epilogue.Stage s : e.stages()) {
            v = switch (s) {
                case Epilogue.Apply a -> render(a.f(), v, Map.of());
                case Epilogue.Join j -> "(" + v + (j.fn() == ScalarExpr.Fn2.ADD ? " + " : " * ") + extra + ")";
            };
        }
        return v;
    }

    /** A C identifier made from an IR value name (which may hold spaces, quotes, dots). */
    static String identifier(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(Character.isLetterOrDigit(c) && c < 128 ? c : '_');
        return b.toString();
    }

    /** Text safe inside a // comment (IR names and origins may hold newlines). */
    static String comment(String s) { return s.replace('\n', ' ').replace('\r', ' '); }

    static int ceilDiv(long a, long b) { return (int) ((a + b - 1) / b); }

    static int pow2AtLeast(long n) { return n <= 1 ? 1 : Integer.highestOneBit((int) Math.min(n - 1, 1 << 29)) << 1; }

    static long roundUp(long n, long multiple) { return (n + multiple - 1) / multiple * multiple; }
}
