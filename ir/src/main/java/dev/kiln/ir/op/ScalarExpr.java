package dev.kiln.ir.op;

import java.util.HashMap;
import java.util.Map;

/**
 * A function of one float, written once as data: every elementwise activation and unary op is
 * one of these ({@link Unary.Kind#definition}). The reference interpreter evaluates it in double
 * ({@link #eval}); the CPU backend emits it as Vector API and scalar bytecode into each kernel
 * that applies it; the OpenCL backend renders it as C. Adding an activation is adding its
 * expression — no backend learns about it.
 *
 * <p>Comparisons follow IEEE: with a NaN operand they are false (so {@code x < 0 ? 0 : x} keeps
 * NaN, as ReLU must). {@link Let} names a value used twice, so backends compute it once.
 */
public sealed interface ScalarExpr {
    /** The element the function is applied to. */
    record X() implements ScalarExpr {}

    /** A constant, rounded to f32 as every backend holds it. */
    record Const(float value) implements ScalarExpr {}

    /** A primitive of one argument. */
    record Apply1(Fn1 fn, ScalarExpr a) implements ScalarExpr {}

    /** A primitive of two arguments. */
    record Apply2(Fn2 fn, ScalarExpr a, ScalarExpr b) implements ScalarExpr {}

    /** {@code a cmp b ? ifTrue : ifFalse}. */
    record Select(Cmp cmp, ScalarExpr a, ScalarExpr b, ScalarExpr ifTrue, ScalarExpr ifFalse) implements ScalarExpr {}

    /** {@code body} with {@code name} bound to {@code value}, computed once. */
    record Let(String name, ScalarExpr value, ScalarExpr body) implements ScalarExpr {}

    /** A name bound by an enclosing {@link Let}. */
    record Ref(String name) implements ScalarExpr {}

    /**
     * The one-argument primitives. FLOOR, CEIL and RINT (round half to even) and ERF are primitives
     * rather than expressions because their float formulas (the 2^23 trick, a rational
     * approximation) would be wrong in the double reference.
     */
    enum Fn1 { NEG, ABS, EXP, LOG, TANH, ERF, SQRT, FLOOR, CEIL, RINT }

    /** POW is x^y with {@link Math#pow}'s (and C's, and PyTorch's) rules for negative bases, zeros and non-finite values. */
    enum Fn2 { ADD, SUB, MUL, DIV, POW }

    enum Cmp { LT, LE, GT, GE, EQ, NE }

    // ---- building expressions: the definitions read like the formulas ----

    ScalarExpr X = new X();

    static ScalarExpr c(double v) { return new Const((float) v); }
    static ScalarExpr add(ScalarExpr a, ScalarExpr b) { return new Apply2(Fn2.ADD, a, b); }
    static ScalarExpr sub(ScalarExpr a, ScalarExpr b) { return new Apply2(Fn2.SUB, a, b); }
    static ScalarExpr mul(ScalarExpr a, ScalarExpr b) { return new Apply2(Fn2.MUL, a, b); }
    static ScalarExpr div(ScalarExpr a, ScalarExpr b) { return new Apply2(Fn2.DIV, a, b); }
    static ScalarExpr pow(ScalarExpr a, ScalarExpr b) { return new Apply2(Fn2.POW, a, b); }
    static ScalarExpr fn(Fn1 f, ScalarExpr a) { return new Apply1(f, a); }
    static ScalarExpr select(Cmp cmp, ScalarExpr a, ScalarExpr b, ScalarExpr t, ScalarExpr f) { return new Select(cmp, a, b, t, f); }
    static ScalarExpr let(String name, ScalarExpr value, ScalarExpr body) { return new Let(name, value, body); }
    static ScalarExpr ref(String name) { return new Ref(name); }

    /** min(max(a, lo), hi) with NaN kept (the comparisons are false for NaN). */
    static ScalarExpr clamp(ScalarExpr a, double lo, double hi) {
        return let("clamped", a, select(Cmp.LT, ref("clamped"), c(lo), c(lo), select(Cmp.GT, ref("clamped"), c(hi), c(hi), ref("clamped"))));
    }

    /** 1/(1+e^−x) from e = exp(−|x|), which never overflows and keeps σ's subnormal tail. */
    static ScalarExpr sigmoid(ScalarExpr a) {
        return let("sx", a, let("se", fn(Fn1.EXP, fn(Fn1.NEG, fn(Fn1.ABS, ref("sx")))),
                let("sr", div(c(1), add(c(1), ref("se"))), select(Cmp.LT, ref("sx"), c(0), mul(ref("se"), ref("sr")), ref("sr")))));
    }

    /**
     * e^x − 1 without the cancellation of exp(x) − 1 near 0, where f32's exp rounds to 1 and the
     * result to 0 (ELU(−2e-8) came out 0, not −2e-8; a later ×6e5 made it 0.024 off): a degree-6
     * Taylor polynomial for |x| < 1/4 (truncation below f32's rounding), exp(x) − 1 elsewhere.
     */
    static ScalarExpr expm1(ScalarExpr a) {
        ScalarExpr m = ref("mx"), poly = c(1.0 / 720);
        for (double k : new double[]{1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1}) poly = add(c(k), mul(m, poly));
        return let("mx", a, select(Cmp.LT, fn(Fn1.ABS, m), c(0.25), mul(m, poly), sub(fn(Fn1.EXP, m), c(1))));
    }

    /** log(1 + e^x) as max(x, 0) + log(1 + e^−|x|): no overflow for large x. */
    static ScalarExpr softplus(ScalarExpr a) {
        return let("px", a, add(select(Cmp.GT, ref("px"), c(0), ref("px"), c(0)),
                fn(Fn1.LOG, add(c(1), fn(Fn1.EXP, fn(Fn1.NEG, fn(Fn1.ABS, ref("px"))))))));
    }

    // ---- the reference semantics ----

    /** The value at x, in double (f32 constants, double arithmetic). */
    default double eval(double x) { return eval(this, x, new HashMap<>()); }

    private static double eval(ScalarExpr e, double x, Map<String, Double> env) {
        return switch (e) {
            case X ignored -> x;
            case Const k -> k.value();
            case Ref r -> {
                Double v = env.get(r.name());
                if (v == null) throw new IllegalStateException("unbound name " + r.name() + " in " + e);
                yield v;
            }
            case Let l -> {
                Double saved = env.put(l.name(), eval(l.value(), x, env));
                double v = eval(l.body(), x, env);
                if (saved == null) env.remove(l.name());
                else env.put(l.name(), saved);
                yield v;
            }
            case Apply1 a -> apply(a.fn(), eval(a.a(), x, env));
            case Apply2 a -> apply(a.fn(), eval(a.a(), x, env), eval(a.b(), x, env));
            case Select s -> holds(s.cmp(), eval(s.a(), x, env), eval(s.b(), x, env)) ? eval(s.ifTrue(), x, env) : eval(s.ifFalse(), x, env);
        };
    }

    static double apply(Fn1 f, double a) {
        return switch (f) {
            case NEG -> -a;
            case ABS -> Math.abs(a);
            case EXP -> Math.exp(a);
            case LOG -> Math.log(a);
            case TANH -> Math.tanh(a);
            case ERF -> ScalarMath.erf(a);
            case SQRT -> Math.sqrt(a);
            case FLOOR -> Math.floor(a);
            case CEIL -> Math.ceil(a);
            case RINT -> Math.rint(a);
        };
    }

    static double apply(Fn2 f, double a, double b) {
        return switch (f) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
        };
    }

    static boolean holds(Cmp c, double a, double b) {
        return switch (c) {
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
            case EQ -> a == b;
            case NE -> a != b;
        };
    }
}
