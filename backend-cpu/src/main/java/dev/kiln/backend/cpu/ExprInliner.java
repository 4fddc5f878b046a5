package dev.kiln.backend.cpu;

import dev.kiln.ir.op.ScalarExpr;
import dev.kiln.ir.op.ScalarExpr.Apply1;
import dev.kiln.ir.op.ScalarExpr.Apply2;
import dev.kiln.ir.op.ScalarExpr.Cmp;
import dev.kiln.ir.op.ScalarExpr.Const;
import dev.kiln.ir.op.ScalarExpr.Fn1;
import dev.kiln.ir.op.ScalarExpr.Let;
import dev.kiln.ir.op.ScalarExpr.Ref;
import dev.kiln.ir.op.ScalarExpr.Select;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

import java.util.HashMap;
import java.util.Map;

import static dev.kiln.ir.op.ScalarExpr.add;
import static dev.kiln.ir.op.ScalarExpr.c;
import static dev.kiln.ir.op.ScalarExpr.div;
import static dev.kiln.ir.op.ScalarExpr.fn;
import static dev.kiln.ir.op.ScalarExpr.let;
import static dev.kiln.ir.op.ScalarExpr.mul;
import static dev.kiln.ir.op.ScalarExpr.ref;
import static dev.kiln.ir.op.ScalarExpr.select;
import static dev.kiln.ir.op.ScalarExpr.sub;

/**
 * Writes an element-wise function ({@link ScalarExpr}, defined once in ir) straight into a
 * kernel's bytecode where its template calls {@code VecMath.apply}: on a FloatVector with Vector
 * API calls, or on a float for loop tails, with the same formulas so a lane never depends on
 * where it fell. Inline, not a call: a vector crossing a call C2 declines to inline is boxed on
 * every tile, and C2 declines often in big kernels ("low call site frequency").
 *
 * <p>The value the function applies to is on the operand stack; it is stored into a fresh local,
 * the expression is evaluated from it, and its result is left on the stack. {@link Let}s get
 * locals of their own. Comparisons use IEEE semantics (false with a NaN), as the reference does.
 *
 * <p>POW is FloatVector.pow on vectors (Math.pow's rules) and Math.pow in double on a float.
 *
 * <p>Four primitives have no Vector API operation and are expanded here into the others, for
 * both forms alike: ERF (Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7), and FLOOR, CEIL, RINT
 * (adding and subtracting 2^23 rounds a float of magnitude below 2^23 to an integer, half to
 * even; larger magnitudes are integers already, and NaN passes through the final select).
 */
final class ExprInliner {
    private static final String FV = "jdk/incubator/vector/FloatVector", FVD = "L" + FV + ";",
            VEC = "Ljdk/incubator/vector/Vector;", MASK = "Ljdk/incubator/vector/VectorMask;",
            OPS = "jdk/incubator/vector/VectorOperators", UNARY = "L" + OPS + "$Unary;", COMPARISON = "L" + OPS + "$Comparison;";

    private final boolean vector;
    private final InsnList out = new InsnList();
    private final Map<String, Integer> scope = new HashMap<>();
    private int nextLocal;
    private final int x;

    private ExprInliner(boolean vector, int firstFreeLocal) {
        this.vector = vector;
        this.x = firstFreeLocal;
        this.nextLocal = firstFreeLocal + 1;
    }

    /**
     * The instructions that replace the call: they take the argument (a FloatVector, or a float
     * when {@code vector} is false) from the stack and leave f of it. Locals from
     * {@code firstFreeLocal} on are used; {@link #localsUsed} says how many.
     */
    static InsnList inline(ScalarExpr f, boolean vector, int firstFreeLocal, int[] localsUsed) {
        ExprInliner e = new ExprInliner(vector, firstFreeLocal);
        e.out.add(new VarInsnNode(vector ? Opcodes.ASTORE : Opcodes.FSTORE, e.x));
        e.emit(f);
        localsUsed[0] = e.nextLocal - firstFreeLocal;
        return e.out;
    }

    private void emit(ScalarExpr e) {
        switch (e) {
            case ScalarExpr.X ignored -> load(x);
            case Const k -> constant(k.value());
            case Ref r -> {
                Integer slot = scope.get(r.name());
                if (slot == null) throw new IllegalStateException("unbound name " + r.name());
                load(slot);
            }
            case Let l -> {
                emit(l.value());
                int slot = nextLocal++;
                out.add(new VarInsnNode(vector ? Opcodes.ASTORE : Opcodes.FSTORE, slot));
                Integer saved = scope.put(l.name(), slot);
                emit(l.body());
                if (saved == null) scope.remove(l.name());
                else scope.put(l.name(), saved);
            }
            case Apply1 a -> apply1(a.fn(), a.a());
            case Apply2 a -> apply2(a);
            case Select s -> emitSelect(s);
        }
    }

    private void load(int slot) { out.add(new VarInsnNode(vector ? Opcodes.ALOAD : Opcodes.FLOAD, slot)); }

    /** A float constant, or a vector of it (broadcast from the argument's species). */
    private void constant(float v) {
        if (vector) load(x);
        out.add(new LdcInsnNode(v));
        if (vector) virtual("broadcast", "(F)" + FVD);
    }

    private void apply1(Fn1 f, ScalarExpr a) {
        switch (f) {
            case ERF -> { if (vector) vectorErf(a); else emit(erf(a)); return; }
            case RINT -> { emit(rint(a)); return; }
            case FLOOR -> { emit(let("fa", a, let("fr", rint(ref("fa")), select(Cmp.GT, ref("fr"), ref("fa"), sub(ref("fr"), c(1)), ref("fr"))))); return; }
            case CEIL -> { emit(let("ca", a, let("cr", rint(ref("ca")), select(Cmp.LT, ref("cr"), ref("ca"), add(ref("cr"), c(1)), ref("cr"))))); return; }
            default -> { }
        }
        emit(a);
        if (vector) {
            switch (f) {
                case NEG -> virtual("neg", "()" + FVD);
                case ABS -> virtual("abs", "()" + FVD);
                case EXP, LOG, TANH, SQRT -> {
                    out.add(new FieldInsnNode(Opcodes.GETSTATIC, OPS, f.name(), UNARY));
                    virtual("lanewise", "(" + UNARY + ")" + FVD);
                }
                default -> throw new IllegalStateException(f + " is expanded above");
            }
        } else {
            switch (f) {
                case NEG -> out.add(new InsnNode(Opcodes.FNEG));
                case ABS -> out.add(new MethodInsnNode(Opcodes.INVOKESTATIC, "java/lang/Math", "abs", "(F)F", false));
                case EXP, LOG, TANH, SQRT -> {
                    out.add(new InsnNode(Opcodes.F2D));
                    out.add(new MethodInsnNode(Opcodes.INVOKESTATIC, "java/lang/Math", f.name().toLowerCase(java.util.Locale.ROOT), "(D)D", false));
                    out.add(new InsnNode(Opcodes.D2F));
                }
                default -> throw new IllegalStateException(f + " is expanded above");
            }
        }
    }

    private void apply2(Apply2 a) {
        emit(a.a());
        if (vector && a.b() instanceof Const k) {          // the scalar overloads: no broadcast
            out.add(new LdcInsnNode(k.value()));
            virtual(a.fn().name().toLowerCase(java.util.Locale.ROOT), "(F)" + FVD);
            return;
        }
        if (!vector && a.fn() == ScalarExpr.Fn2.POW) {     // in double, as the reference; FloatVector.pow rounds alike within an ulp
            out.add(new InsnNode(Opcodes.F2D));
            emit(a.b());
            out.add(new InsnNode(Opcodes.F2D));
            out.add(new MethodInsnNode(Opcodes.INVOKESTATIC, "java/lang/Math", "pow", "(DD)D", false));
            out.add(new InsnNode(Opcodes.D2F));
            return;
        }
        emit(a.b());
        if (vector) virtual(a.fn().name().toLowerCase(java.util.Locale.ROOT), "(" + VEC + ")" + FVD);
        else out.add(new InsnNode(switch (a.fn()) {
            case ADD -> Opcodes.FADD;
            case SUB -> Opcodes.FSUB;
            case MUL -> Opcodes.FMUL;
            case DIV -> Opcodes.FDIV;
            case POW -> throw new IllegalStateException("POW is emitted above");
        }));
    }

    private void emitSelect(Select s) {
        if (vector) {
            // ifFalse.blend(ifTrue, a.compare(cmp, b)): compare-and-blend, not a branch
            emit(s.ifFalse());
            boolean constantIfTrue = s.ifTrue() instanceof Const;
            if (constantIfTrue) out.add(new LdcInsnNode(((Const) s.ifTrue()).value()));
            else emit(s.ifTrue());
            emit(s.a());
            out.add(new FieldInsnNode(Opcodes.GETSTATIC, OPS, s.cmp().name(), COMPARISON));
            if (s.b() instanceof Const k) {
                out.add(new LdcInsnNode(k.value()));
                virtual("compare", "(" + COMPARISON + "F)" + MASK);
            } else {
                emit(s.b());
                virtual("compare", "(" + COMPARISON + VEC + ")" + MASK);
            }
            virtual("blend", "(" + (constantIfTrue ? "F" : VEC) + MASK + ")" + FVD);
            return;
        }
        LabelNode yes = new LabelNode(), end = new LabelNode();
        emit(s.a());
        emit(s.b());
        // FCMPG makes NaN "greater" and FCMPL "less", so every comparison with NaN is false (NE true)
        boolean lessLike = s.cmp() == Cmp.LT || s.cmp() == Cmp.LE;
        out.add(new InsnNode(lessLike ? Opcodes.FCMPG : Opcodes.FCMPL));
        out.add(new JumpInsnNode(switch (s.cmp()) {
            case LT -> Opcodes.IFLT;
            case LE -> Opcodes.IFLE;
            case GT -> Opcodes.IFGT;
            case GE -> Opcodes.IFGE;
            case EQ -> Opcodes.IFEQ;
            case NE -> Opcodes.IFNE;
        }, yes));
        emit(s.ifFalse());
        out.add(new JumpInsnNode(Opcodes.GOTO, end));
        out.add(yes);
        emit(s.ifTrue());
        out.add(end);
    }

    private void virtual(String name, String desc) {
        out.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, FV, name, desc, false));
    }

    private static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f, TWO_23 = 8388608f;

    /** erf(a) = sign(a)·(1 − poly(t)·e^(−a²)), t = 1/(1 + P·|a|). */
    private static ScalarExpr erf(ScalarExpr a) {
        ScalarExpr t = ref("et");
        ScalarExpr poly = mul(add(mul(add(mul(add(mul(add(mul(c(A5), t), c(A4)), t), c(A3)), t), c(A2)), t), c(A1)), t);
        return let("ez", a, let("ea", fn(Fn1.ABS, ref("ez")), let("et", div(c(1), add(c(1), mul(c(P), ref("ea")))),
                let("ey", sub(c(1), mul(poly, fn(Fn1.EXP, fn(Fn1.NEG, mul(ref("ea"), ref("ea")))))),
                        select(Cmp.LT, ref("ez"), c(0), fn(Fn1.NEG, ref("ey")), ref("ey"))))));
    }

    /**
     * The vector form of {@link #erf}: the same formula, its e^(−a²) written out instead of
     * VectorOperators.EXP, a call into the JDK's vector math library that made GELU cost three times
     * its linear layer's GEMM (the encoder's linear1 step 87 µs against 26 µs with ReLU).
     */
    private void vectorErf(ScalarExpr a) {
        bind("ez", a);
        bind("ea", fn(Fn1.ABS, ref("ez")));
        bind("et", div(c(1), add(c(1), mul(c(P), ref("ea")))));
        emit(mul(ref("ea"), ref("ea")));
        virtual("neg", "()" + FVD);
        expOfNonPositive();
        int ee = store();
        scope.put("ee", ee);
        ScalarExpr t = ref("et");
        ScalarExpr poly = mul(add(mul(add(mul(add(mul(add(mul(c(A5), t), c(A4)), t), c(A3)), t), c(A2)), t), c(A1)), t);
        emit(let("ey", sub(c(1), mul(poly, ref("ee"))), select(Cmp.LT, ref("ez"), c(0), fn(Fn1.NEG, ref("ey")), ref("ey"))));
        for (String n : new String[]{"ez", "ea", "et", "ee"}) scope.remove(n);
    }

    private static final float LOG2E = 1.44269504f, ROUNDER = 12582912f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final String IV = "jdk/incubator/vector/IntVector", IVD = "L" + IV + ";";

    /**
     * e^x of the vector x ≤ 0 (or NaN) on the stack: x = n·ln2 + r with |r| ≤ ln2/2 (n from adding
     * 1.5·2²³, which leaves it in the sum's low mantissa bits), e^r by its Taylor polynomial to r⁶
     * (relative error < 2e-7), 2^n written into the exponent bits. x is clamped at −88, where e^x is
     * below f32's normals and erf's product with it is far below an ulp of 1. NaN stays NaN.
     */
    private void expOfNonPositive() {
        out.add(new LdcInsnNode(-88f));
        virtual("max", "(F)" + FVD);
        int x = store();
        load(x);
        out.add(new LdcInsnNode(LOG2E));
        out.add(new LdcInsnNode(ROUNDER));
        virtual("fma", "(FF)" + FVD);
        int t = store();
        load(t);
        out.add(new LdcInsnNode(ROUNDER));
        virtual("sub", "(F)" + FVD);
        int n = store();
        load(x);                                                   // r = x − n·LN2_HI − n·LN2_LO (n·LN2_HI exact)
        load(n);
        out.add(new LdcInsnNode(LN2_HI));
        virtual("mul", "(F)" + FVD);
        virtual("sub", "(" + VEC + ")" + FVD);
        load(n);
        out.add(new LdcInsnNode(LN2_LO));
        virtual("mul", "(F)" + FVD);
        virtual("sub", "(" + VEC + ")" + FVD);
        int r = store();
        load(r);
        out.add(new LdcInsnNode(1f / 720));
        virtual("mul", "(F)" + FVD);
        out.add(new LdcInsnNode(1f / 120));
        virtual("add", "(F)" + FVD);
        for (float k : new float[]{1f / 24, 1f / 6, 0.5f, 1f, 1f}) {
            load(r);
            virtual("mul", "(" + VEC + ")" + FVD);
            out.add(new LdcInsnNode(k));
            virtual("add", "(F)" + FVD);
        }
        load(t);                                                   // 2^n: t's bits − (0x4B400000 − 127) are n + 127
        virtual("reinterpretAsInts", "()" + IVD);
        out.add(new LdcInsnNode(0x4B400000 - 127));
        out.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, IV, "sub", "(I)" + IVD, false));
        out.add(new FieldInsnNode(Opcodes.GETSTATIC, OPS, "LSHL", "L" + OPS + "$Binary;"));
        out.add(new LdcInsnNode(23));
        out.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, IV, "lanewise", "(L" + OPS + "$Binary;I)" + IVD, false));
        out.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, IV, "reinterpretAsFloats", "()" + FVD, false));
        virtual("mul", "(" + VEC + ")" + FVD);
    }

    private void bind(String name, ScalarExpr value) {
        emit(value);
        scope.put(name, store());
    }

    private int store() {
        int slot = nextLocal++;
        out.add(new VarInsnNode(Opcodes.ASTORE, slot));
        return slot;
    }

    /** Round half to even: (a ± 2^23) ∓ 2^23 below 2^23 in magnitude, a itself above (and for NaN). */
    /**
     * Round half to even by adding and subtracting 2^23; a zero result takes the input's sign
     * (ra·0), as Math.rint's does: −0.3 and −0 round to −0, and 1/round(−0) is −∞ (seed 517843 of a
     * 20,000-graph run found +0).
     */
    private static ScalarExpr rint(ScalarExpr a) {
        return let("ra", a, let("rs", select(Cmp.LT, ref("ra"), c(0), c(-TWO_23), c(TWO_23)),
                let("rr", select(Cmp.LT, fn(Fn1.ABS, ref("ra")), c(TWO_23), sub(add(ref("ra"), ref("rs")), ref("rs")), ref("ra")),
                        select(Cmp.EQ, ref("rr"), c(0), mul(ref("ra"), c(0)), ref("rr")))));
    }
}
