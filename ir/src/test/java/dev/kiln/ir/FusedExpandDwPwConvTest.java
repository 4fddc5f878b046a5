package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The inverted-residual op's reference semantics and shape rule. */
class FusedExpandDwPwConvTest {
    private static final Act RELU6 = Act.clip(0, 6);

    @Test
    void equalsTheUnfusedChainWithZeroPaddingAfterTheExpansion() {
        int c = 3, m = 7, o = 3;
        int[] stride = {1, 1}, padding = {1, 2, 1, 0}, dilation = {1, 1};
        GraphBuilder b = new GraphBuilder("mbconv");
        String x = b.input("x", TensorType.f32(2, c, 6, 5));
        String ew = b.constant("ew", HostTensor.normal(Shape.of(m, c, 1, 1), 1));
        // a large positive expansion bias: padding that were relu6(bias) instead of 0 would show
        float[] bias = new float[m];
        java.util.Arrays.fill(bias, 3f);
        String eb = b.constant("eb", HostTensor.of(Shape.of(m), bias));
        String dw = b.constant("dw", HostTensor.normal(Shape.of(m, 1, 3, 3), 2));
        String dwb = b.constant("dwb", HostTensor.normal(Shape.of(m), 3));
        String pw = b.constant("pw", HostTensor.normal(Shape.of(o, m, 1, 1), 4));
        String pwb = b.constant("pwb", HostTensor.normal(Shape.of(o), 5));
        String e = b.add(Unary.of(Unary.Kind.CLIP, 0, 6), List.of(b.add(FusedDwPwConv.POINTWISE, List.of(x, ew, eb), "e")), "e.act");
        String d = b.add(Unary.of(Unary.Kind.CLIP, 0, 6), List.of(b.add(new Conv2d(stride, padding, dilation, m), List.of(e, dw, dwb), "dw")), "dw.act");
        String p = b.add(FusedDwPwConv.POINTWISE, List.of(d, pw, pwb), "pw");
        String unfused = b.add(new Binary(Binary.Kind.ADD), List.of(p, x), "res");
        var op = new FusedExpandDwPwConv(stride, padding, dilation, RELU6, RELU6, Epilogue.of(Epilogue.ADD));
        String fused = b.add(op, List.of(x, ew, eb, dw, dwb, pw, pwb, x), "fused");
        Map<String, HostTensor> out = ReferenceInterpreter.run(Verifier.verify(b.output(unfused).output(fused).build()),
                Map.of(x, HostTensor.normal(Shape.of(2, c, 6, 5), 6)));
        assertTrue(out.get(fused).allClose(out.get(unfused), 1e-5, 1e-6), out.get(fused) + " vs " + out.get(unfused));
    }

    @Test
    void refusesAnExpansionWeightThatDoesNotFitTheInput() {
        var op = new FusedExpandDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, RELU6, RELU6, Epilogue.NONE);
        ShapeException ex = assertThrows(ShapeException.class, () -> op.inferType(List.of(TensorType.f32(1, 4, 5, 5),
                TensorType.f32(8, 3, 1, 1), TensorType.f32(8), TensorType.f32(8, 1, 3, 3), TensorType.f32(8),
                TensorType.f32(2, 8, 1, 1), TensorType.f32(2))));
        assertTrue(ex.getMessage().contains("expansion weight f32[8,3,1,1] must be [M,4,1,1]"), ex.getMessage());
    }
}
