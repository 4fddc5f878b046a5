package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Activation;
import dev.kiln.ir.op.Combine;
import dev.kiln.ir.op.Unary;

/**
 * The OpenCL C vocabulary the kernel generators share: float literals, vector types and loads,
 * index arithmetic, and the element-wise functions of the fused epilogues.
 */
final class Code {
    private Code() {}

    /** Functions every program starts with: the activations, with the reference's NaN behaviour. */
    static final String PRELUDE = """
            // Kiln OpenCL C: element-wise functions shared by the kernels below.
            float kiln_relu(float x) { return (x > 0.0f || isnan(x)) ? x : 0.0f; }
            float kiln_leaky_relu(float x, float a) { return (x >= 0.0f || isnan(x)) ? x : a * x; }
            float kiln_sigmoid(float x) { const float e = exp(-fabs(x)), r = 1.0f / (1.0f + e); return x < 0.0f ? e * r : r; }
            float kiln_gelu(float x) { return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f)); }
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

    static String activation(Activation a, float alpha, String x) {
        return switch (a) {
            case NONE -> x;
            case RELU -> "kiln_relu(" + x + ")";
            case LEAKY_RELU -> "kiln_leaky_relu(" + x + ", " + lit(alpha) + ")";
            case SIGMOID -> "kiln_sigmoid(" + x + ")";
            case TANH -> "tanh(" + x + ")";
            case GELU -> "kiln_gelu(" + x + ")";
        };
    }

    static String unary(Unary.Kind k, float alpha, String x) {
        return k == Unary.Kind.EXP ? "exp(" + x + ")" : activation(Activation.valueOf(k.name()), alpha, x);
    }

    /** The fused epilogue on an already biased value: ADD extra, then the activation, then MUL extra. */
    static String epilogue(String t, Activation act, float alpha, Combine combine, String extra) {
        String v = combine == Combine.ADD ? "(" + t + " + " + extra + ")" : "(" + t + ")";
        v = activation(act, alpha, v);
        return combine == Combine.MUL ? "(" + v + " * " + extra + ")" : v;
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
