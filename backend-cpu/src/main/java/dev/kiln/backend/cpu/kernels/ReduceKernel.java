package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A reduction over a 4-d view whose axes the lowering has already collapsed (adjacent axes that
 * are both reduced or both kept and contiguous become one). Axes 0..2 are each either a task axis
 * (extent T_i, loop extent L_i = 1) or a reduced axis (T_i = 1, extent L_i); the output strides
 * YS_i of reduced axes are 0. Axis 3, of extent LEN, decides the form:
 * <ul>
 *   <li>INNER = 1, axis 3 reduced: one task per output element, summing rows of LEN over the
 *       reduced axes, each row vectorised when it is contiguous (VEC). Global average pooling
 *       is this form with one long row per plane.</li>
 *   <li>INNER = 0, axis 3 kept: one task per piece of an output line along axis 3, each vector of
 *       the line accumulating over the reduced axes (reducing channels of NCHW, say).</li>
 * </ul>
 * OP says how an element joins the accumulator (0 add, 1 max, 2 min, 3 mul, 4 add |x|, 5 add
 * (x / m)², 6 add exp(x − m)), FIN how it ends (0 as is, 1 times SCALE, 2 m·sqrt, 3 log, 4 m + log,
 * 5 m·(m·acc)). For 5 and 6 a first pass finds m (the largest |x| for 5, the largest x for 6), and a
 * result whose m is not finite is m. Squares are scaled by the largest |x| because x² leaves f32's
 * range for |x| below ~1e-19 or above ~1e19 while the norm itself does not (the reference squares in
 * double).
 */
public final class ReduceKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_X_SLOT, P_X_OFF, P_XS0, P_XS1, P_XS2, P_XS3;
    static int P_Y_SLOT, P_Y_OFF, P_YS0, P_YS1, P_YS2, P_YS3;
    static int P_T1, P_T2, P_L0, P_L1, P_L2, P_LEN, P_INNER, P_VEC, P_OP, P_FIN, P_PIECES, P_PIECE;
    static float P_INIT, P_SCALE;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] x = bufs[P_X_SLOT], y = bufs[P_Y_SLOT];
        for (int t = lo; t < hi; t++) {
            int piece = t % P_PIECES, row = t / P_PIECES;
            int i2 = row % P_T2, i1 = row / P_T2 % P_T1, i0 = row / P_T2 / P_T1;
            int xo = P_X_OFF + i0 * P_XS0 + i1 * P_XS1 + i2 * P_XS2;
            int yo = P_Y_OFF + i0 * P_YS0 + i1 * P_YS1 + i2 * P_YS2;
            if (P_INNER == 1) {
                float m = 0f;
                if (P_OP == 5 || P_OP == 6) {
                    m = P_VEC == 1 ? rowsMax(x, xo) : rowsMaxStrided(x, xo);
                    if (Float.isInfinite(m) || Float.isNaN(m)) { y[yo] = m; continue; }
                    if (P_OP == 5 && m == 0f) m = 1f;
                }
                y[yo] = finish(P_VEC == 1 ? rows(x, xo, m) : rowsStrided(x, xo, m), m);
            } else {
                int jlo = piece * P_PIECE, jhi = Math.min(P_LEN, jlo + P_PIECE);
                int j = P_VEC == 1 ? lineVector(x, xo, y, yo, jlo, jhi) : jlo;
                lineScalar(x, xo, y, yo, j, jhi);
            }
        }
    }

    /** The accumulator over every reduced row, each row a contiguous run of LEN. */
    private static float rows(float[] x, int xo, float m) {
        FloatVector acc = FloatVector.broadcast(S, P_INIT);
        float tail = P_INIT;
        for (int r0 = 0; r0 < P_L0; r0++)
            for (int r1 = 0; r1 < P_L1; r1++)
                for (int r2 = 0; r2 < P_L2; r2++) {
                    int o = xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2, j = 0;
                    for (; j <= P_LEN - S.length(); j += S.length()) {
                        FloatVector v = FloatVector.fromArray(S, x, o + j);
                        if (P_OP == 0) acc = acc.add(v);
                        else if (P_OP == 1) acc = acc.max(v);
                        else if (P_OP == 2) acc = acc.min(v);
                        else if (P_OP == 3) acc = acc.mul(v);
                        else if (P_OP == 4) acc = acc.add(v.abs());
                        else if (P_OP == 5) { FloatVector s = v.div(m); acc = s.fma(s, acc); }
                        else acc = acc.add(v.sub(m).lanewise(VectorOperators.EXP));
                    }
                    for (; j < P_LEN; j++) tail = step(tail, x[o + j], m);
                }
        float lanes;
        if (P_OP == 1) lanes = acc.reduceLanes(VectorOperators.MAX);
        else if (P_OP == 2) lanes = acc.reduceLanes(VectorOperators.MIN);
        else if (P_OP == 3) lanes = acc.reduceLanes(VectorOperators.MUL);
        else lanes = acc.reduceLanes(VectorOperators.ADD);
        return combine(lanes, tail);
    }

    /** The largest x (OP 6) or |x| (OP 5), NaN if any is NaN. */
    private static float rowsMax(float[] x, int xo) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        float tail = Float.NEGATIVE_INFINITY;
        for (int r0 = 0; r0 < P_L0; r0++)
            for (int r1 = 0; r1 < P_L1; r1++)
                for (int r2 = 0; r2 < P_L2; r2++) {
                    int o = xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2, j = 0;
                    for (; j <= P_LEN - S.length(); j += S.length()) {
                        FloatVector v = FloatVector.fromArray(S, x, o + j);
                        acc = acc.max(P_OP == 5 ? v.abs() : v);
                    }
                    for (; j < P_LEN; j++) tail = Math.max(tail, P_OP == 5 ? Math.abs(x[o + j]) : x[o + j]);
                }
        return Math.max(acc.reduceLanes(VectorOperators.MAX), tail);
    }

    private static float rowsStrided(float[] x, int xo, float m) {
        float acc = P_INIT;
        for (int r0 = 0; r0 < P_L0; r0++)
            for (int r1 = 0; r1 < P_L1; r1++)
                for (int r2 = 0; r2 < P_L2; r2++) {
                    int o = xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2;
                    for (int j = 0; j < P_LEN; j++) acc = step(acc, x[o + j * P_XS3], m);
                }
        return acc;
    }

    private static float rowsMaxStrided(float[] x, int xo) {
        float acc = Float.NEGATIVE_INFINITY;
        for (int r0 = 0; r0 < P_L0; r0++)
            for (int r1 = 0; r1 < P_L1; r1++)
                for (int r2 = 0; r2 < P_L2; r2++) {
                    int o = xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2;
                    for (int j = 0; j < P_LEN; j++) acc = Math.max(acc, P_OP == 5 ? Math.abs(x[o + j * P_XS3]) : x[o + j * P_XS3]);
                }
        return acc;
    }

    /** Whole vectors of the output line [jlo, jhi) (contiguous in x and y); returns where the scalar tail starts. */
    private static int lineVector(float[] x, int xo, float[] y, int yo, int jlo, int jhi) {
        int j = jlo;
        for (; j <= jhi - S.length(); j += S.length()) {
            FloatVector m = FloatVector.zero(S);
            if (P_OP == 5 || P_OP == 6) {
                m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (int r0 = 0; r0 < P_L0; r0++)
                    for (int r1 = 0; r1 < P_L1; r1++)
                        for (int r2 = 0; r2 < P_L2; r2++) {
                            FloatVector v = FloatVector.fromArray(S, x, xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2 + j);
                            m = m.max(P_OP == 5 ? v.abs() : v);
                        }
            }
            // the divisor of the scaled squares: 1 where every element is 0
            FloatVector d = P_OP == 5 ? m.blend(1f, m.eq(0f)) : m;
            FloatVector acc = FloatVector.broadcast(S, P_INIT);
            for (int r0 = 0; r0 < P_L0; r0++)
                for (int r1 = 0; r1 < P_L1; r1++)
                    for (int r2 = 0; r2 < P_L2; r2++) {
                        FloatVector v = FloatVector.fromArray(S, x, xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2 + j);
                        if (P_OP == 0) acc = acc.add(v);
                        else if (P_OP == 1) acc = acc.max(v);
                        else if (P_OP == 2) acc = acc.min(v);
                        else if (P_OP == 3) acc = acc.mul(v);
                        else if (P_OP == 4) acc = acc.add(v.abs());
                        else if (P_OP == 5) { FloatVector s = v.div(d); acc = s.fma(s, acc); }
                        else acc = acc.add(v.sub(m).lanewise(VectorOperators.EXP));
                    }
            if (P_FIN == 1) acc = acc.mul(P_SCALE);
            else if (P_FIN == 2) acc = d.mul(acc.lanewise(VectorOperators.SQRT));
            else if (P_FIN == 3) acc = acc.lanewise(VectorOperators.LOG);
            else if (P_FIN == 4) acc = m.add(acc.lanewise(VectorOperators.LOG));
            else if (P_FIN == 5) acc = d.mul(d.mul(acc));
            if (P_OP == 5 || P_OP == 6)
                acc = acc.blend(m, m.test(VectorOperators.IS_INFINITE).or(m.test(VectorOperators.IS_NAN)));
            acc.intoArray(y, yo + j);
        }
        return j;
    }

    private static void lineScalar(float[] x, int xo, float[] y, int yo, int jlo, int jhi) {
        for (int j = jlo; j < jhi; j++) {
            float m = 0f;
            if (P_OP == 5 || P_OP == 6) {
                m = Float.NEGATIVE_INFINITY;
                for (int r0 = 0; r0 < P_L0; r0++)
                    for (int r1 = 0; r1 < P_L1; r1++)
                        for (int r2 = 0; r2 < P_L2; r2++) {
                            float v = x[xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2 + j * P_XS3];
                            m = Math.max(m, P_OP == 5 ? Math.abs(v) : v);
                        }
                if (Float.isInfinite(m) || Float.isNaN(m)) { y[yo + j * P_YS3] = m; continue; }
                if (P_OP == 5 && m == 0f) m = 1f;
            }
            float acc = P_INIT;
            for (int r0 = 0; r0 < P_L0; r0++)
                for (int r1 = 0; r1 < P_L1; r1++)
                    for (int r2 = 0; r2 < P_L2; r2++) acc = step(acc, x[xo + r0 * P_XS0 + r1 * P_XS1 + r2 * P_XS2 + j * P_XS3], m);
            y[yo + j * P_YS3] = finish(acc, m);
        }
    }

    private static float step(float acc, float v, float m) {
        if (P_OP == 0) return acc + v;
        if (P_OP == 1) return Math.max(acc, v);
        if (P_OP == 2) return Math.min(acc, v);
        if (P_OP == 3) return acc * v;
        if (P_OP == 4) return acc + Math.abs(v);
        if (P_OP == 5) { float s = v / m; return Math.fma(s, s, acc); }
        return acc + (float) Math.exp(v - m);
    }

    private static float combine(float a, float b) {
        if (P_OP == 1) return Math.max(a, b);
        if (P_OP == 2) return Math.min(a, b);
        if (P_OP == 3) return a * b;
        return a + b;
    }

    private static float finish(float acc, float m) {
        if (P_FIN == 1) return acc * P_SCALE;
        if (P_FIN == 2) return m * (float) Math.sqrt(acc);
        if (P_FIN == 3) return (float) Math.log(acc);
        if (P_FIN == 4) return m + (float) Math.log(acc);
        if (P_FIN == 5) return m * (m * acc);
        return acc;
    }
}
