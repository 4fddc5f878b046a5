package dev.kiln.ir;

import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.OpPattern;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Reference semantics of min/max, PReLU, comparisons, where, not and pow on the values where they differ between libraries. */
class MasksMinMaxPowTest {
    static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    static final float[] EDGES = {0f, -0f, 1f, -1f, 2f, -2f, 0.5f, -0.5f, 3f, -3f, 1e-30f, -1e-30f, 1e30f, -1e30f,
            Float.MIN_VALUE, -Float.MIN_VALUE, INF, -INF, NAN};

    private static HostTensor binary(Binary.Kind k, float[] a, float[] b) {
        return new Binary(k).evaluate(List.of(HostTensor.of(a, a.length), HostTensor.of(b, b.length)));
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 1f, 2f, 3f, 4f, 0.5f, -1f, -2f, -0.5f, 1.5f, 5f, -3f})
    void powIsTorchPowOnEveryEdgeBitForBit(float a) {
        for (float x : EDGES) {
            float want = (float) torchPow(x, a), got = (float) Unary.Kind.POW.apply(x, a, 0);
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), "pow(" + x + ", " + a + "): " + got + " vs torch " + want);
        }
    }

    /** torch.pow with a scalar exponent: Math.pow's rules, but 0.5 and −0.5 are sqrt and rsqrt (so (−∞)^0.5 is NaN, (−0)^0.5 is −0). */
    private static double torchPow(double x, double a) {
        if (a == 0.5) return Math.sqrt(x);
        if (a == -0.5) return 1 / Math.sqrt(x);
        return Math.pow(x, a);
    }

    @Test
    void minAndMaxPropagateNaNAsTorchMaximumDoes() {
        float[] a = {NAN, 1f, 2f, -0f, -INF}, b = {1f, NAN, 3f, 0f, INF};
        assertArrayEquals(new float[]{NAN, NAN, 3f, 0f, INF}, binary(Binary.Kind.MAX, a, b).data());
        assertArrayEquals(new float[]{NAN, NAN, 2f, -0f, -INF}, binary(Binary.Kind.MIN, a, b).data());
    }

    @Test
    void comparisonsAreZeroOneMasksFalseWithNaN() {
        float[] a = {1f, 1f, 2f, NAN, -0f, INF}, b = {1f, 2f, 1f, NAN, 0f, INF};
        assertArrayEquals(new float[]{1, 0, 0, 0, 1, 1}, binary(Binary.Kind.EQ, a, b).data());
        assertArrayEquals(new float[]{0, 1, 0, 0, 0, 0}, binary(Binary.Kind.LT, a, b).data());
        assertArrayEquals(new float[]{1, 1, 0, 0, 1, 1}, binary(Binary.Kind.LE, a, b).data());
        assertArrayEquals(new float[]{0, 0, 1, 0, 0, 0}, binary(Binary.Kind.GT, a, b).data());
        assertArrayEquals(new float[]{1, 0, 1, 0, 1, 1}, binary(Binary.Kind.GE, a, b).data());
    }

    @Test
    void preluScalesNegativesByTheBroadcastSlope() {
        HostTensor x = HostTensor.of(new float[]{-1, 2, -3, 4, NAN, -0f}, 1, 2, 3), slope = HostTensor.of(new float[]{0.5f, -2f}, 2, 1);
        // JUnit's float arrays compare NaN equal to NaN
        assertArrayEquals(new float[]{-0.5f, 2, -1.5f, 4, NAN, -0f}, new Binary(Binary.Kind.PRELU).evaluate(List.of(x, slope)).data());
    }

    @Test
    void whereReadsAnyNonZeroIncludingNaNAsTrueAndBroadcasts() {
        HostTensor cond = HostTensor.of(new float[]{1, 0, NAN, -0f}, 4, 1), a = HostTensor.of(new float[]{-INF}, 1),
                b = HostTensor.of(new float[]{10, 20}, 2);
        HostTensor y = new Where().evaluate(List.of(cond, a, b));
        assertArrayEquals(new int[]{4, 2}, y.shape().dims());
        assertArrayEquals(new float[]{-INF, -INF, 10, 20, -INF, -INF, 10, 20}, y.data());
        assertEquals(OpPattern.SELECT, OpPattern.of(new Where()));
        assertThrows(ShapeException.class, () -> new Where().inferType(List.of(TensorType.f32(3), TensorType.f32(2), TensorType.f32(2))));
    }

    @Test
    void notIsOneExactlyWhereZero() {
        for (float x : EDGES) assertEquals(x == 0 ? 1.0 : 0.0, Unary.Kind.NOT.apply(x, 0, 0), "not " + x);
    }
}
