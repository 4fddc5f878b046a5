package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.NOT_POINTWISE;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.OVERLAP;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A 1×1 expansion conv feeding a fusable depthwise conv joins the pair (inverted residual), or is reported with the reason it cannot. */
class FuseExpansionTest {
    static final String PASS = FuseDepthwisePointwiseTest.PASS;

    /** MobileNetV2's block: expand 1×1 + relu6, depthwise 3×3 + relu6, project 1×1, residual add; with the expansion's attributes given. */
    private static String block(String expansion, String extraUse, String outputs) {
        return """
                graph @ir(%x: f32[1,4,9,9]) {
                  const %e.weight: f32[12,4,1,1]
                  const %e.bias: f32[12]
                  const %dw.weight: f32[12,1,3,3]
                  const %dw.bias: f32[12]
                  const %pw.weight: f32[4,12,1,1]
                  const %pw.bias: f32[4]
                  %e: f32[1,12,9,9] = conv2d(%x, %e.weight, %e.bias) {EXPANSION} loc("expand")
                  %e.act: f32[1,12,9,9] = unary(%e) {act=clip(0,6)} loc("expand.act")
                  %d: f32[1,12,9,9] = conv2d(%e.act, %dw.weight, %dw.bias) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=12} loc("dw")
                  %d.act: f32[1,12,9,9] = unary(%d) {act=clip(0,6)} loc("dw.act")
                  %p: f32[1,4,9,9] = conv2d(%d.act, %pw.weight, %pw.bias) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("project")
                  %y: f32[1,4,9,9] = binary(%p, %x) {kind=add} loc("residual")
                EXTRA  return OUTPUTS
                }
                """.replace("EXPANSION", expansion).replace("EXTRA", extraUse).replace("OUTPUTS", outputs);
    }

    private static final String PLAIN = "stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1";

    @Test
    void fusesExpansionDepthwiseAndProjectionWithTheResidual() {
        var result = run(block(PLAIN, "", "%y"), "fuse-epilogues", PASS, "dce");
        assertEquals("""
                graph @ir(%x: f32[1,4,9,9]) {
                  const %e.weight: f32[12,4,1,1]
                  const %e.bias: f32[12]
                  const %dw.weight: f32[12,1,3,3]
                  const %dw.bias: f32[12]
                  const %pw.weight: f32[4,12,1,1]
                  const %pw.bias: f32[4]
                  %y: f32[1,4,9,9] = fused_expand_dw_pw_conv(%x, %e.weight, %e.bias, %dw.weight, %dw.bias, %pw.weight, %pw.bias, %x) \
                {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], expandAct=clip(0.0,6.0), midAct=clip(0.0,6.0), epilogue=[add]} loc("project")
                  return %y
                }
                """, result.graph().toString());
        assertEquals(1, result.report().count(PASS));
        var mine = result.report().fused().stream().filter(d -> d.pass().equals(PASS)).toList();
        assertEquals(1, mine.size(), result.report()::toString);
        assertEquals(2L * 12 * 9 * 9 * 4, mine.getFirst().bytesSaved(), "neither the expanded nor the depthwise tensor is stored");
        assertTrue(mine.getFirst().detail().contains("expansion conv2d at expand"), result.report()::toString);
    }

    @Test
    void refusesAnExpansionWithASecondConsumerAndFusesThePairWithoutIt() {
        var result = run(block(PLAIN, "  %side: f32[1,12,9,9] = unary(%e.act) {act=tanh} loc(\"side\")\n", "%y, %side"), "fuse-epilogues", PASS, "dce");
        // fuse-epilogues reports the second consumer too (the tanh cannot join the expansion's epilogue)
        var mine = result.report().refused().stream().filter(d -> d.pass().equals(PASS)).toList();
        assertEquals(1, mine.size(), result.report()::toString);
        assertEquals(SECOND_CONSUMER, mine.getFirst().kind());
        assertTrue(mine.getFirst().detail().contains("side (%side)"), result.report()::toString);
        assertEquals(1, count(result.graph(), FusedDwPwConv.class));
        assertEquals(0, count(result.graph(), FusedExpandDwPwConv.class));
    }

    @Test
    void refusesAnExpansionThatIsAGraphOutput() {
        var result = run(block(PLAIN, "", "%y, %e.act"), "fuse-epilogues", PASS, "dce");
        assertEquals("expanded tensor is a graph output", onlyRefusal(result, GRAPH_OUTPUT));
        assertEquals(1, count(result.graph(), FusedDwPwConv.class));
    }

    @Test
    void refusesStridedOrPaddedOrGroupedExpansions() {
        String strided = block(PLAIN, "", "%y").replace("stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc(\"expand\")",
                "stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=2} loc(\"expand\")").replace("f32[12,4,1,1]", "f32[12,2,1,1]");
        var result = run(strided, "fuse-epilogues", PASS, "dce");
        assertEquals("expansion candidate has groups=2", onlyRefusal(result, NOT_POINTWISE));
        String padded = block("stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1", "", "%y")
                .replace("%e: f32[1,12,9,9]", "%e: f32[1,12,11,11]").replace("%e.act: f32[1,12,9,9]", "%e.act: f32[1,12,11,11]")
                .replace("%d: f32[1,12,9,9] = conv2d(%e.act, %dw.weight, %dw.bias) {stride=[1,1], padding=[1,1,1,1]",
                        "%d: f32[1,12,9,9] = conv2d(%e.act, %dw.weight, %dw.bias) {stride=[1,1], padding=[0,0,0,0]");
        assertEquals("expansion candidate is padded", onlyRefusal(run(padded, "fuse-epilogues", PASS, "dce"), NOT_POINTWISE));
    }

    @Test
    void refusesAnExpansionWithTwoActivations() {
        String twice = block(PLAIN, "", "%y").replace("%e.act: f32[1,12,9,9] = unary(%e) {act=clip(0,6)} loc(\"expand.act\")",
                "%e.r: f32[1,12,9,9] = unary(%e) {act=relu} loc(\"expand.relu\")\n  %e.act: f32[1,12,9,9] = unary(%e.r) {act=tanh} loc(\"expand.act\")");
        var result = run(twice, "fuse-epilogues", PASS, "dce");
        assertEquals("expansion's epilogue [relu, tanh] has more than the one activation the fused op applies", onlyRefusal(result, ORDER));
    }

    @Test
    void leavesAPointwiseHalfOfAnEarlierPairWhereItIs() {
        // MobileNetV1: dw → pw → dw → pw; the middle 1×1 stays the first pair's projection
        Graph g = parse("""
                graph @v1(%x: f32[1,4,8,8]) {
                  const %dw1.weight: f32[4,1,3,3]
                  const %pw1.weight: f32[6,4,1,1]
                  const %dw2.weight: f32[6,1,3,3]
                  const %pw2.weight: f32[5,6,1,1]
                  %d1: f32[1,4,8,8] = conv2d(%x, %dw1.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=4} loc("dw1")
                  %p1: f32[1,6,8,8] = conv2d(%d1, %pw1.weight) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw1")
                  %d2: f32[1,6,8,8] = conv2d(%p1, %dw2.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=6} loc("dw2")
                  %p2: f32[1,5,8,8] = conv2d(%d2, %pw2.weight) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw2")
                  return %p2
                }
                """);
        var result = run(g, PASS);
        assertEquals(2, count(result.graph(), FusedDwPwConv.class));
        assertTrue(onlyRefusal(result, OVERLAP).startsWith("expansion candidate is already the pointwise half"), result.report()::toString);
    }
}
