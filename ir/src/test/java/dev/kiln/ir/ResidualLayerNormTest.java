package dev.kiln.ir;

import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ResidualLayerNormTest {
    @Test
    void isTheLayerNormOfTheSumRoundedToF32() {
        HostTensor x = HostTensor.normal(Shape.of(3, 8), 1), r = HostTensor.normal(Shape.of(3, 8), 2);
        HostTensor g = HostTensor.normal(Shape.of(8), 3), b = HostTensor.normal(Shape.of(8), 4);
        float[] sum = new float[24];
        for (int i = 0; i < 24; i++) sum[i] = x.data()[i] + r.data()[i];
        HostTensor want = new LayerNorm(1, 1e-5f).evaluate(List.of(HostTensor.of(x.shape(), sum), g, b));
        assertArrayEquals(want.data(), new ResidualLayerNorm(1, 1e-5f).evaluate(List.of(x, r, g, b)).data());
        assertArrayEquals(new LayerNorm(0, 0f).evaluate(List.of(HostTensor.of(x.shape(), sum))).data(),
                new ResidualLayerNorm(0, 0f).evaluate(List.of(x, r)).data());
    }

    @Test
    void refusesAResidualOfAnotherShapeAndBadAttributes() {
        var e = assertThrows(ShapeException.class, () -> new ResidualLayerNorm(1, 1e-5f).inferType(List.of(TensorType.f32(2, 8), TensorType.f32(8))));
        assertTrue(e.getMessage().contains("residual"), e.getMessage());
        assertThrows(ShapeException.class, () -> new ResidualLayerNorm(1, 1e-5f).inferType(List.of(TensorType.f32(2, 8))));
        assertThrows(ShapeException.class, () -> new ResidualLayerNorm(1, 1e-5f).inferType(List.of(TensorType.f32(2, 8), TensorType.f32(2, 8), TensorType.f32(2))));
        assertThrows(IllegalArgumentException.class, () -> new ResidualLayerNorm(-1, 1e-5f));
        assertThrows(IllegalArgumentException.class, () -> new ResidualLayerNorm(0, Float.NaN));
    }
}
