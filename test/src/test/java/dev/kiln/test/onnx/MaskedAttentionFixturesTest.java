package dev.kiln.test.onnx;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.Transpose;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The masked-attention exports (GPT-style causal block, nn.MultiheadAttention cross-attention with a
 * float attn_mask, BERT-style key padding, the TransformerEncoderLayer, its src_key_padding_mask as a float
 * input and nn.MultiheadAttention's boolean key_padding_mask) become one fused_attention
 * whose operands are the head-split projections themselves: no transpose is left in the graph,
 * the 1/√d on Q or on the scores is in the scale, a triangular −∞ mask is the causal flag and
 * never a tensor, and the result still matches PyTorch through the reference interpreter.
 */
class MaskedAttentionFixturesTest {
    @ParameterizedTest(name = "{0} @ opset {1}: causal={2}, mask={3}")
    @CsvSource({
            "gpt-causal, 13, true, none", "gpt-causal, 17, true, none",
            "cross-attention, 13, false, add", "cross-attention, 17, false, add",
            "padded-attention, 13, false, select", "padded-attention, 17, false, select",
            "transformer-post, 13, false, none", "transformer-post, 17, false, none",
            "encoder-key-padding, 13, false, add", "encoder-key-padding, 17, false, add",
            "mha-key-padding, 13, false, add", "mha-key-padding, 17, false, add"})
    void fusesIntoOneStridedAttention(String model, int opset, boolean causal, String mask) {
        OnnxFixtures f = OnnxFixtures.of(model, opset);
        PassManager.Result r = PassManager.defaults().run(f.load());
        List<Node> att = r.graph().nodes().stream().filter(n -> n.op() instanceof FusedAttention).toList();
        assertEquals(1, att.size(), () -> f + "\n" + r.report() + r.graph());
        FusedAttention a = (FusedAttention) att.getFirst().op();
        assertEquals(causal, a.causal(), () -> f + ": " + a);
        assertEquals(mask, a.maskSelects() ? "select" : a.hasMask() ? "add" : "none", () -> f + ": " + a);
        assertEquals((float) (1 / Math.sqrt(8)), a.scale(), 1e-6f, () -> f + ": " + a);
        for (AttentionLayout l : List.of(a.qLayout(), a.kLayout(), a.vLayout(), a.outLayout()))
            assertEquals(AttentionLayout.SEQUENCE_MAJOR, l, () -> f + ": heads are read through strides: " + a);
        // the head split and merge are gone (nn.MultiheadAttention's batch_first transposes of its inputs and output stay)
        long transposes = r.graph().nodes().stream().filter(n -> n.op() instanceof Transpose).count();
        long expected = model.equals("cross-attention") ? 3 : model.equals("padded-attention") || model.equals("gpt-causal") ? 0 : 2;
        assertEquals(expected, transposes, () -> f + ": transposes left\n" + r.graph());
        assertTrue(r.report().toString().contains("fused_attention"), r.report()::toString);

        List<HostTensor> got = new ArrayList<>(ReferenceInterpreter.run(r.graph(), f.inputData()).values());
        double err = got.getFirst().relativeL2Error(f.expectedOutputs().getFirst());
        assertTrue(err <= 1e-5, () -> f + " after the passes: relative L2 error " + err);
    }
}
