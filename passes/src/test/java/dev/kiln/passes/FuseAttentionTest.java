package dev.kiln.passes;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.AttentionModule;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.Softmax;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;
import static org.junit.jupiter.api.Assertions.*;

/** softmax(scale · Q·Kᵀ [+ mask]) · V becomes one fused_attention, in sequence and SAGAN layout; near-misses are refused with the reason. */
class FuseAttentionTest {
    static final String PASS = "fuse-attention";

    @Test
    void fusesSequenceLayout() {
        var result = run("""
                graph @seq(%q: f32[2,5,3], %k: f32[2,7,3], %v: f32[2,7,4]) {
                  %kt: f32[2,3,7] = transpose(%k) {perm=[0,2,1]}
                  %s: f32[2,5,7] = mat_mul(%q, %kt)
                  %scaled: f32[2,5,7] = scale(%s) {factor=0.5}
                  %p: f32[2,5,7] = softmax(%scaled) {axis=2}
                  %o: f32[2,5,4] = mat_mul(%p, %v) loc("attention")
                  return %o
                }
                """, PASS);
        assertEquals("""
                graph @seq(%q: f32[2,5,3], %k: f32[2,7,3], %v: f32[2,7,4]) {
                  %o: f32[2,5,4] = fused_attention(%q, %k, %v) {scale=0.5, hasMask=false, qLayout=row_major, \
                kLayout=row_major, vLayout=row_major, outLayout=row_major, causal=false, maskSelects=false} loc("attention")
                  return %o
                }
                """, result.graph().toString());
        assertEquals(1, result.report().count(PASS));
    }

    @Test
    void fusesSaganLayout() {
        // SAGAN keeps Q, K, V channel-major after its 1×1 convs: Qᵀ·K, then V·Pᵀ; every transpose becomes a layout flag
        var result = run("""
                graph @sagan(%q: f32[1,2,6], %k: f32[1,2,6], %v: f32[1,4,6]) {
                  %qt: f32[1,6,2] = transpose(%q) {perm=[0,2,1]}
                  %s: f32[1,6,6] = mat_mul(%qt, %k)
                  %p: f32[1,6,6] = softmax(%s) {axis=2}
                  %pt: f32[1,6,6] = transpose(%p) {perm=[0,2,1]}
                  %o: f32[1,4,6] = mat_mul(%v, %pt) loc("attention")
                  return %o
                }
                """, PASS);
        assertEquals("""
                graph @sagan(%q: f32[1,2,6], %k: f32[1,2,6], %v: f32[1,4,6]) {
                  %o: f32[1,4,6] = fused_attention(%q, %k, %v) {scale=1.0, hasMask=false, qLayout=channel_major, \
                kLayout=channel_major, vLayout=channel_major, outLayout=channel_major, causal=false, maskSelects=false} loc("attention")
                  return %o
                }
                """, result.graph().toString());
    }

    @Test
    void fusesTracedSaganAttentionModule() {
        Graph g = Tracer.trace(new AttentionModule(8), 2, 8, 3, 5);
        var result = run(g, PASS, "dce");
        assertEquals(0, count(result.graph(), Softmax.class), result.graph()::toString);
        FusedAttention fused = (FusedAttention) result.graph().nodes().stream()
                .map(Node::op).filter(FusedAttention.class::isInstance).findFirst().orElseThrow();
        assertTrue(fused.qChannelMajor() && fused.kChannelMajor() && fused.vChannelMajor() && fused.outChannelMajor(), fused::toString);
    }

    @Test
    void fusesWithMask() {
        var result = run("""
                graph @masked(%q: f32[1,3,2], %kt: f32[1,2,5], %v: f32[1,5,2], %mask: f32[1,3,5]) {
                  %s: f32[1,3,5] = mat_mul(%q, %kt)
                  %scaled: f32[1,3,5] = scale(%s) {factor=0.25}
                  %masked: f32[1,3,5] = binary(%scaled, %mask) {kind=add}
                  %p: f32[1,3,5] = softmax(%masked) {axis=2}
                  %o: f32[1,3,2] = mat_mul(%p, %v)
                  return %o
                }
                """, PASS);
        assertEquals("  %o: f32[1,3,2] = fused_attention(%q, %kt, %v, %mask) {scale=0.25, hasMask=true, qLayout=row_major, "
                        + "kLayout=channel_major, vLayout=row_major, outLayout=row_major, causal=false, maskSelects=false}",
                result.graph().toString().lines().filter(l -> l.contains("fused_attention")).findFirst().orElseThrow());
    }

    @Test
    void fusesDivisionByConstantAsOnnxExportsTheScale() {
        // torch.onnx writes Q·Kᵀ / sqrt(d) as Div by a one-element initializer
        Graph g = parse("""
                graph @onnx(%q: f32[1,4,4], %k: f32[1,4,4], %v: f32[1,4,4]) {
                  const %sqrt_d: f32[]
                  %kt: f32[1,4,4] = transpose(%k) {perm=[0,2,1]}
                  %s: f32[1,4,4] = mat_mul(%q, %kt)
                  %scaled: f32[1,4,4] = binary(%s, %sqrt_d) {kind=div}
                  %p: f32[1,4,4] = softmax(%scaled) {axis=2}
                  %o: f32[1,4,4] = mat_mul(%p, %v)
                  return %o
                }
                """).withWeights(Map.of("sqrt_d", HostTensor.full(dev.kiln.ir.Shape.scalar(), 2f)));
        var result = run(g, PASS, "dce");
        assertEquals(1, result.graph().nodes().size(), result.graph()::toString);
        assertEquals(0.5f, ((FusedAttention) result.graph().nodes().getFirst().op()).scale());
        assertTrue(result.graph().constants().isEmpty(), "the divisor is folded into the scale");
    }

    @Test
    void refusesSoftmaxOnAnotherAxis() {
        var result = run(chain("%p: f32[1,3,5] = softmax(%s) {axis=1}", "%o: f32[1,3,2] = mat_mul(%p, %v)", "%o"), PASS);
        onlyRefusal(result, SHAPE_MISMATCH);
        assertEquals(0, count(result.graph(), FusedAttention.class));
    }

    @Test
    void refusesWhenScoresHaveSecondConsumer() {
        var result = run(chain("%p: f32[1,3,5] = softmax(%s) {axis=2}",
                "%o: f32[1,3,2] = mat_mul(%p, %v)\n  %t: f32[1,3,5] = unary(%s) {act=tanh}", "%o, %t"), PASS);
        assertEquals("intermediate %s has another consumer", onlyRefusal(result, SECOND_CONSUMER));
    }

    @Test
    void refusesWhenScoresAreAGraphOutput() {
        var result = run(chain("%p: f32[1,3,5] = softmax(%s) {axis=2}", "%o: f32[1,3,2] = mat_mul(%p, %v)", "%o, %s"), PASS);
        assertEquals("intermediate %s is a graph output", onlyRefusal(result, GRAPH_OUTPUT));
    }

    @Test
    void refusesWhenProbabilitiesHaveSecondConsumer() {
        var result = run(chain("%p: f32[1,3,5] = softmax(%s) {axis=2}",
                "%o: f32[1,3,2] = mat_mul(%p, %v)\n  %t: f32[1,3,5] = unary(%p) {act=tanh}", "%o, %t"), PASS);
        onlyRefusal(result, SECOND_CONSUMER);
    }

    @Test
    void refusesWhenProbabilitiesAreAGraphOutput() {
        var result = run(chain("%p: f32[1,3,5] = softmax(%s) {axis=2}", "%o: f32[1,3,2] = mat_mul(%p, %v)", "%o, %p"), PASS);
        onlyRefusal(result, GRAPH_OUTPUT);
    }

    @Test
    void refusesMaskBroadcastAlongTheKeys() {
        // a [2,3,1] mask adds one value per row; the fused op reads masks with unit stride along the keys
        var result = run("""
                graph @masked(%q: f32[2,3,2], %kt: f32[2,2,5], %v: f32[2,5,2], %mask: f32[2,3,1]) {
                  %s: f32[2,3,5] = mat_mul(%q, %kt)
                  %masked: f32[2,3,5] = binary(%s, %mask) {kind=add}
                  %p: f32[2,3,5] = softmax(%masked) {axis=2}
                  %o: f32[2,3,2] = mat_mul(%p, %v)
                  return %o
                }
                """, PASS);
        assertEquals("additive mask f32[2,3,1] does not broadcast to f32[2,3,5] along its leading axes", onlyRefusal(result, SHAPE_MISMATCH));
    }

    @Test
    void refusesValuesSharedAcrossTheBatch() {
        // the matmul broadcasts a V of batch 1; the fused op does not
        var result = run("""
                graph @shared_v(%q: f32[2,3,2], %kt: f32[2,2,5], %v: f32[1,5,2]) {
                  %s: f32[2,3,5] = mat_mul(%q, %kt)
                  %p: f32[2,3,5] = softmax(%s) {axis=2}
                  %o: f32[2,3,2] = mat_mul(%p, %v)
                  return %o
                }
                """, PASS);
        assertTrue(onlyRefusal(result, SHAPE_MISMATCH).startsWith("operands do not fit one attention"), result.report()::toString);
    }

    /** Q·Kᵀ of [1,3,2]·[1,2,5] as %s, then the given softmax and PV lines, returning the given values. */
    private static String chain(String softmax, String attend, String outputs) {
        return """
                graph @chain(%q: f32[1,3,2], %kt: f32[1,2,5], %v: f32[1,5,2]) {
                  %s: f32[1,3,5] = mat_mul(%q, %kt)
                  SOFTMAX
                  ATTEND
                  return OUTPUTS
                }
                """.replace("SOFTMAX", softmax).replace("ATTEND", attend).replace("OUTPUTS", outputs);
    }
}
