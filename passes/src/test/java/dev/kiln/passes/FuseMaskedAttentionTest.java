package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Where;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.NOT_THE_PATTERN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masked multi-head attention as PyTorch exports it: the heads split by reshape + transpose and
 * merged back, the 1/√d on Q or on the scores, masked_fill(−∞) with a triangular constant (causal)
 * or a computed key-padding mask, broadcast additive masks, queries and keys of different lengths.
 * Every case is checked against the reference before and after the pass (CheckedRewrite).
 */
class FuseMaskedAttentionTest {
    static final String PASS = "fuse-attention";

    /** A GPT-style block over [B=2, N=5, H=2, d=3]; FILL is the masked_fill value, COND the mask's name. */
    private static final String GPT = """
            graph @gpt(%q: f32[2,5,6], %k: f32[2,5,6], %v: f32[2,5,6]) {
              const %tri: f32[5,5]
              const %fill: f32[]
              const %c: f32[]
              %qh: f32[2,5,2,3] = reshape(%q) {shape=[2,5,2,3]}
              %kh: f32[2,5,2,3] = reshape(%k) {shape=[2,5,2,3]}
              %vh: f32[2,5,2,3] = reshape(%v) {shape=[2,5,2,3]}
              %qt: f32[2,2,5,3] = transpose(%qh) {perm=[0,2,1,3]}
              %kt: f32[2,2,3,5] = transpose(%kh) {perm=[0,2,3,1]}
              %vt: f32[2,2,5,3] = transpose(%vh) {perm=[0,2,1,3]}
              %s: f32[2,2,5,5] = mat_mul(%qt, %kt)
              %ss: f32[2,2,5,5] = binary(%s, %c) {kind=mul}
              %w: f32[2,2,5,5] = where(%tri, %fill, %ss)
              %p: f32[2,2,5,5] = softmax(%w) {axis=3}
              %o: f32[2,2,5,3] = mat_mul(%p, %vt)
              %om: f32[2,5,2,3] = transpose(%o) {perm=[0,2,1,3]}
              %y: f32[2,5,6] = reshape(%om) {shape=[2,5,6]}
              return %y
            }
            """;

    private static Graph gpt(float fill, boolean triangular) {
        Graph g = parse(GPT);
        float[] tri = new float[25];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) tri[i * 5 + j] = triangular ? (j > i ? 1 : 0) : (j == 2 ? 1 : 0);
        Map<String, HostTensor> w = new HashMap<>(g.weights());
        w.put("tri", HostTensor.of(tri, 5, 5));
        w.put("fill", HostTensor.of(new float[]{fill}));
        w.put("c", HostTensor.of(new float[]{0.5f}));
        return g.withWeights(w);
    }

    @Test
    void fusesGptCausalBlockWithHeadsReadThroughStrides() {
        var result = run(gpt(Float.NEGATIVE_INFINITY, true), PASS, "dce");
        FusedAttention a = only(result.graph());
        assertTrue(a.causal(), a::toString);
        assertFalse(a.hasMask(), "a triangle is the causal flag, never a tensor");
        assertEquals(0.5f, a.scale());
        for (AttentionLayout l : new AttentionLayout[]{a.qLayout(), a.kLayout(), a.vLayout(), a.outLayout()})
            assertEquals(AttentionLayout.SEQUENCE_MAJOR, l, a::toString);
        assertEquals(0, count(result.graph(), Transpose.class), result.graph()::toString);
        assertTrue(result.report().toString().contains("fused_attention causal"), result.report()::toString);
    }

    @Test
    void fusesAnyOtherConstantMaskedFillAsASelectingMask() {
        var result = run(gpt(Float.NEGATIVE_INFINITY, false), PASS, "dce");
        FusedAttention a = only(result.graph());
        assertFalse(a.causal());
        assertTrue(a.hasMask() && a.maskSelects(), a::toString);
        assertEquals(0, count(result.graph(), Where.class), "a constant condition is folded into a constant mask");
    }

    @Test
    void refusesAFiniteMaskedFill() {
        var result = run(gpt(-1e9f, true), PASS);
        assertEquals("masked_fill value -1.0E9 is not -inf", onlyRefusal(result, NOT_THE_PATTERN));
    }

    @Test
    void fusesKeyPaddingMaskComputedAtRunTime() {
        // BERT-style: a [B,1,1,N] boolean from an input, scores selected by torch.where(keep, scores, -inf)
        Graph g = parse("""
                graph @pad(%q: f32[2,2,4,3], %kt: f32[2,2,3,6], %v: f32[2,2,6,3], %keep: f32[2,1,1,6]) {
                  const %fill: f32[]
                  %s: f32[2,2,4,6] = mat_mul(%q, %kt)
                  %w: f32[2,2,4,6] = where(%keep, %s, %fill)
                  %p: f32[2,2,4,6] = softmax(%w) {axis=3}
                  %o: f32[2,2,4,3] = mat_mul(%p, %v)
                  return %o
                }
                """);
        g = g.withWeights(Map.of("fill", HostTensor.of(new float[]{Float.NEGATIVE_INFINITY})));
        var result = run(g, PASS);
        FusedAttention a = only(result.graph());
        assertTrue(a.maskSelects() && !a.causal(), a::toString);
        assertEquals(AttentionLayout.CHANNEL_MAJOR, a.kLayout(), "Kᵀ given is K channel-major");
        assertEquals(1, count(result.graph(), Where.class), "the [2,1,1,6] mask is made by one small where");
        assertEquals(Shape.of(2, 1, 1, 6), result.graph().typeOf(result.graph().nodes().getLast().inputs().get(3)).shape());
    }

    @Test
    void fusesCrossAttentionAsMultiheadAttentionExportsIt() {
        // nn.MultiheadAttention: [L, B·H, d] from a reshape, transposed to [B·H, L, d]; Q divided by √d; M ≠ N;
        // a float attn_mask [M, N] broadcast over B·H
        var result = run("""
                graph @mha(%q: f32[4,6,3], %k: f32[7,6,3], %v: f32[7,6,3], %bias: f32[4,7]) {
                  const %sqrt_d: f32[]
                  %qt: f32[6,4,3] = transpose(%q) {perm=[1,0,2]}
                  %qs: f32[6,4,3] = binary(%qt, %sqrt_d) {kind=div}
                  %kt: f32[6,3,7] = transpose(%k) {perm=[1,2,0]}
                  %vt: f32[6,7,3] = transpose(%v) {perm=[1,0,2]}
                  %s: f32[6,4,7] = mat_mul(%qs, %kt)
                  %m: f32[6,4,7] = binary(%s, %bias) {kind=add}
                  %p: f32[6,4,7] = softmax(%m) {axis=2}
                  %o: f32[6,4,3] = mat_mul(%p, %vt)
                  %y: f32[4,6,3] = transpose(%o) {perm=[1,0,2]}
                  return %y
                }
                """, PASS, "dce");
        FusedAttention a = only(result.graph());
        assertTrue(a.hasMask() && !a.maskSelects(), a::toString);
        assertEquals(AttentionLayout.SEQUENCE_MAJOR, a.qLayout());
        assertEquals(AttentionLayout.SEQUENCE_MAJOR, a.kLayout());
        assertEquals(AttentionLayout.SEQUENCE_MAJOR, a.outLayout());
        assertEquals(1, result.graph().nodes().size(), result.graph()::toString);
    }

    @Test
    void foldsAScaleOnKeysButNotOnValues() {
        var result = run("""
                graph @kv(%q: f32[2,3,4], %k: f32[2,5,4], %v: f32[2,5,4]) {
                  %ks: f32[2,5,4] = scale(%k) {factor=0.25}
                  %vs: f32[2,5,4] = scale(%v) {factor=3.0}
                  %kt: f32[2,4,5] = transpose(%ks) {perm=[0,2,1]}
                  %s: f32[2,3,5] = mat_mul(%q, %kt)
                  %p: f32[2,3,5] = softmax(%s) {axis=2}
                  %o: f32[2,3,4] = mat_mul(%p, %vs)
                  return %o
                }
                """, PASS);
        FusedAttention a = only(result.graph());
        assertEquals(0.25f, a.scale());
        assertEquals(2, result.graph().nodes().size(), "V's scale stays a node: " + result.graph());
    }

    private static FusedAttention only(Graph g) {
        assertEquals(1, count(g, FusedAttention.class), g::toString);
        return (FusedAttention) g.nodes().stream().filter(n -> n.op() instanceof FusedAttention).findFirst().orElseThrow().op();
    }
}
