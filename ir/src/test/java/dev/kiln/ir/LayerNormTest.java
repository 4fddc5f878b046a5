package dev.kiln.ir;

import dev.kiln.ir.op.LayerNorm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** LayerNorm's shape rule and reference semantics. */
class LayerNormTest {
    @Test
    void normalisesEachRowOverTheTrailingAxesThenScalesAndShifts() {
        HostTensor x = HostTensor.of(new float[]{1, 2, 3, 4, 10, 10, 10, 30}, 2, 4);
        HostTensor g = HostTensor.of(new float[]{1, 2, 1, 1}, 4), b = HostTensor.of(new float[]{0, 0, 0, 5}, 4);
        float[] y = new LayerNorm(1, 0f).evaluate(List.of(x, g, b)).data();
        // row 0: mean 2.5, var 1.25; row 1: mean 15, var 75
        double s0 = Math.sqrt(1.25), s1 = Math.sqrt(75);
        assertArrayEquals(new float[]{(float) (-1.5 / s0), (float) (2 * -0.5 / s0), (float) (0.5 / s0), (float) (1.5 / s0 + 5),
                (float) (-5 / s1), (float) (2 * -5 / s1), (float) (-5 / s1), (float) (15 / s1 + 5)}, y, 1e-6f);
        float[] all = new LayerNorm(0, 0f).evaluate(List.of(x)).data();
        double mean = 70 / 8.0, var = 0;
        for (float v : x.data()) var += (v - mean) * (v - mean) / 8;
        assertEquals((1 - mean) / Math.sqrt(var), all[0], 1e-6);
    }

    @Test
    void largeMeanRowsKeepTheirSpread() {
        float[] d = new float[64];
        for (int i = 0; i < d.length; i++) d[i] = 10000f + (float) Math.sin(i);
        float[] y = new LayerNorm(0, 1e-5f).evaluate(List.of(HostTensor.of(d, 64))).data();
        double s = 0, sq = 0;
        for (float v : y) { s += v; sq += v * v; }
        assertEquals(0, s / 64, 1e-5);
        assertEquals(1, sq / 64, 1e-3);
    }

    @Test
    void refusesAffineOfTheWrongShapeAndBadAttributes() {
        var e = assertThrows(ShapeException.class, () -> new LayerNorm(1, 1e-5f).inferType(List.of(TensorType.f32(2, 3, 4), TensorType.f32(4))));
        assertTrue(e.getMessage().contains("scale f32[4] must have the normalised shape [3, 4]"), e.getMessage());
        assertThrows(ShapeException.class, () -> new LayerNorm(3, 1e-5f).inferType(List.of(TensorType.f32(2, 3, 4))));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(-1, 1e-5f));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(0, Float.NaN));
    }
}
