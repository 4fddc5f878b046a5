package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Y = A ∘ B with NumPy broadcasting: A and B are 4-d views whose broadcast axes have stride 0.
 * OP is one of the codes below (ElementwiseLowering maps Binary.Kind to them). MIN and MAX
 * propagate NaN (FloatVector.min/max and Math.min/max do); a comparison gives 1 or 0, false with
 * NaN (Vector API compares and Java's float compares are IEEE). One task per output row.
 */
public final class BinaryKernel implements Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static int P_A_SLOT, P_A_OFF, P_A_S0, P_A_S1, P_A_S2, P_A_S3;
    static int P_B_SLOT, P_B_OFF, P_B_S0, P_B_S1, P_B_S2, P_B_S3;
    static int P_Y_SLOT, P_Y_OFF, P_Y_S0, P_Y_S1, P_Y_S2;
    static int P_D1, P_D2, P_D3, P_OP;

    public static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, MIN = 4, MAX = 5, PRELU = 6, EQ = 7, LT = 8, LE = 9, GT = 10, GE = 11;

    @Override public void run(float[][] bufs, int lo, int hi) {
        float[] a = bufs[P_A_SLOT], b = bufs[P_B_SLOT], y = bufs[P_Y_SLOT];
        for (int row = lo; row < hi; row++) {
            int i2 = row % P_D2, i1 = row / P_D2 % P_D1, i0 = row / P_D2 / P_D1;
            int ao = P_A_OFF + i0 * P_A_S0 + i1 * P_A_S1 + i2 * P_A_S2;
            int bo = P_B_OFF + i0 * P_B_S0 + i1 * P_B_S1 + i2 * P_B_S2;
            int yo = P_Y_OFF + i0 * P_Y_S0 + i1 * P_Y_S1 + i2 * P_Y_S2;
            int j = 0;
            if (P_A_S3 <= 1 && P_B_S3 <= 1) {
                for (; j <= P_D3 - S.length(); j += S.length()) {
                    FloatVector va = P_A_S3 == 1 ? FloatVector.fromArray(S, a, ao + j) : FloatVector.broadcast(S, a[ao]);
                    FloatVector vb = P_B_S3 == 1 ? FloatVector.fromArray(S, b, bo + j) : FloatVector.broadcast(S, b[bo]);
                    FloatVector r = switch (P_OP) {
                        case ADD -> va.add(vb);
                        case SUB -> va.sub(vb);
                        case MUL -> va.mul(vb);
                        case DIV -> va.div(vb);
                        case MIN -> va.min(vb);
                        case MAX -> va.max(vb);
                        case PRELU -> va.blend(va.mul(vb), va.compare(VectorOperators.LT, 0f));
                        case EQ -> FloatVector.zero(S).blend(1f, va.compare(VectorOperators.EQ, vb));
                        case LT -> FloatVector.zero(S).blend(1f, va.compare(VectorOperators.LT, vb));
                        case LE -> FloatVector.zero(S).blend(1f, va.compare(VectorOperators.LE, vb));
                        case GT -> FloatVector.zero(S).blend(1f, va.compare(VectorOperators.GT, vb));
                        default -> FloatVector.zero(S).blend(1f, va.compare(VectorOperators.GE, vb));
                    };
                    r.intoArray(y, yo + j);
                }
            }
            for (; j < P_D3; j++) {
                float va = a[ao + j * P_A_S3], vb = b[bo + j * P_B_S3];
                y[yo + j] = switch (P_OP) {
                    case ADD -> va + vb;
                    case SUB -> va - vb;
                    case MUL -> va * vb;
                    case DIV -> va / vb;
                    case MIN -> Math.min(va, vb);
                    case MAX -> Math.max(va, vb);
                    case PRELU -> va < 0 ? va * vb : va;
                    case EQ -> va == vb ? 1f : 0f;
                    case LT -> va < vb ? 1f : 0f;
                    case LE -> va <= vb ? 1f : 0f;
                    case GT -> va > vb ? 1f : 0f;
                    default -> va >= vb ? 1f : 0f;
                };
            }
        }
    }
}
