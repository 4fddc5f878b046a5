package dev.kiln.ir;

import dev.kiln.ir.op.OpPattern;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Reduce.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Reduce's shape rule and reference semantics, one kind at a time, against values worked out by hand. */
class ReduceTest {
    // [2,3]: rows {1,2,3} and {4,-5,6}
    private static final HostTensor X = HostTensor.of(new float[]{1, 2, 3, 4, -5, 6}, 2, 3);

    private static float[] eval(Kind k, boolean keep, int... axes) { return new Reduce(k, keep, axes).evaluate(List.of(X)).data(); }

    @Test
    void eachKindOverTheLastAxis() {
        assertArrayEquals(new float[]{6, 5}, eval(Kind.SUM, false, 1));
        assertArrayEquals(new float[]{2, 5f / 3}, eval(Kind.MEAN, false, 1), 1e-6f);
        assertArrayEquals(new float[]{3, 6}, eval(Kind.MAX, false, 1));
        assertArrayEquals(new float[]{1, -5}, eval(Kind.MIN, false, 1));
        assertArrayEquals(new float[]{6, -120}, eval(Kind.PROD, false, 1));
        assertArrayEquals(new float[]{6, 15}, eval(Kind.L1, false, 1));
        assertArrayEquals(new float[]{(float) Math.sqrt(14), (float) Math.sqrt(77)}, eval(Kind.L2, false, 1), 1e-6f);
        assertArrayEquals(new float[]{14, 77}, eval(Kind.SUM_SQUARE, false, 1));
        assertArrayEquals(new float[]{(float) Math.log(6), (float) Math.log(5)}, eval(Kind.LOG_SUM, false, 1), 1e-6f);
        double lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), lse1 = Math.log(Math.exp(4) + Math.exp(-5) + Math.exp(6));
        assertArrayEquals(new float[]{(float) lse0, (float) lse1}, eval(Kind.LOG_SUM_EXP, false, 1), 1e-6f);
    }

    @Test
    void firstAxisAllAxesAndKeptDims() {
        assertArrayEquals(new float[]{5, -3, 9}, eval(Kind.SUM, false, 0));
        assertArrayEquals(new float[]{11}, eval(Kind.SUM, false, 0, 1));
        assertEquals(TensorType.f32(), new Reduce(Kind.SUM, false, 0, 1).inferType(List.of(X.type())));
        assertEquals(TensorType.f32(1, 1), new Reduce(Kind.SUM, true, 0, 1).inferType(List.of(X.type())));
        assertEquals(TensorType.f32(2, 1), new Reduce(Kind.MAX, true, 1).inferType(List.of(X.type())));
    }

    @Test
    void logSumExpDoesNotOverflowAndHandlesInfinities() {
        HostTensor big = HostTensor.of(new float[]{1000, 1000, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 0}, 3, 2);
        float[] y = new Reduce(Kind.LOG_SUM_EXP, false, 1).evaluate(List.of(big)).data();
        assertEquals(1000 + Math.log(2), y[0], 1e-3);
        assertEquals(Float.NEGATIVE_INFINITY, y[1]);
        assertEquals(Float.POSITIVE_INFINITY, y[2]);
    }

    @Test
    void maxAndMinPropagateNaNAndSelect() {
        HostTensor x = HostTensor.of(new float[]{1, Float.NaN, 3, 0}, 2, 2);
        assertArrayEquals(new float[]{Float.NaN, 3}, new Reduce(Kind.MAX, false, 1).evaluate(List.of(x)).data());
        assertArrayEquals(new float[]{Float.NaN, 0}, new Reduce(Kind.MIN, false, 1).evaluate(List.of(x)).data());
        assertEquals(OpPattern.SELECT, OpPattern.of(new Reduce(Kind.MAX, false, 1)));
        assertEquals(OpPattern.REDUCTION, OpPattern.of(new Reduce(Kind.MEAN, false, 1)));
    }

    @Test
    void refusesEmptyUnsortedNegativeAndOutOfRangeAxes() {
        assertThrows(IllegalArgumentException.class, () -> new Reduce(Kind.SUM, false));
        assertThrows(IllegalArgumentException.class, () -> new Reduce(Kind.SUM, false, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Reduce(Kind.SUM, false, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Reduce(Kind.SUM, false, -1));
        ShapeException e = assertThrows(ShapeException.class, () -> new Reduce(Kind.SUM, false, 2).inferType(List.of(X.type())));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void legacyGlobalAvgPoolTextLoadsAsMeanOverSpatialAxes() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[1,2,3,3]) {
                  %p: f32[1,2,1,1] = global_avg_pool(%x)
                  return %p
                }
                """, "old.kir");
        assertEquals(Reduce.globalAvgPool(), g.nodes().getFirst().op());
        assertTrue(g.toString().contains("reduce(%x) {kind=mean, axes=[2,3], keepDims=true}"), g.toString());
    }
}
