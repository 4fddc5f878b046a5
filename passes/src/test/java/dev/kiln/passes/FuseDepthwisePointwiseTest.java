package dev.kiln.passes;

import dev.kiln.ir.Graph;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.NOT_POINTWISE;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static org.junit.jupiter.api.Assertions.*;

/** Depthwise conv → 1×1 conv becomes one fused_dw_pw_conv; anything else is left alone, with the reason in the report. */
class FuseDepthwisePointwiseTest {
    static final String PASS = "fuse-depthwise-pointwise";

    @Test
    void fusesDepthwiseFollowedByPointwise() {
        var result = run("""
                graph @dwsep(%x: f32[1,4,7,7]) {
                  const %dw.weight: f32[4,1,3,3]
                  const %dw.bias: f32[4]
                  const %pw.weight: f32[6,4,1,1]
                  %d: f32[1,4,4,4] = conv2d(%x, %dw.weight, %dw.bias) {stride=[2,2], padding=[1,1,1,1], dilation=[1,1], groups=4} loc("dw")
                  %p: f32[1,6,4,4] = conv2d(%d, %pw.weight) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw")
                  return %p
                }
                """, PASS);
        assertEquals("""
                graph @dwsep(%x: f32[1,4,7,7]) {
                  const %dw.weight: f32[4,1,3,3]
                  const %dw.bias: f32[4]
                  const %pw.weight: f32[6,4,1,1]
                  const %pw.weight.zero_bias: f32[6]
                  %p: f32[1,6,4,4] = fused_dw_pw_conv(%x, %dw.weight, %dw.bias, %pw.weight, %pw.weight.zero_bias) \
                {stride=[2,2], padding=[1,1,1,1], dilation=[1,1], midAct=none} loc("pw")
                  return %p
                }
                """, result.graph().toString());
        assertEquals(1, result.report().count(PASS));
        assertEquals(4 * 4 * 4 * 4, result.report().bytesSaved(), "the [1,4,4,4] depthwise result is never stored");
    }

    @Test
    void fusesWithActivationsBetweenAndAfter() {
        // epilogue fusion first gives both convs their epilogues; then the pair fuses with both kept
        var result = run("""
                graph @block(%x: f32[1,3,5,5]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %pw.weight: f32[3,3,1,1]
                  const %pw.bias: f32[3]
                  %d: f32[1,3,5,5] = conv2d(%x, %dw.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=3} loc("dw")
                  %d.act: f32[1,3,5,5] = unary(%d) {act=relu} loc("dw.act")
                  %p: f32[1,3,5,5] = conv2d(%d.act, %pw.weight, %pw.bias) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw")
                  %sum: f32[1,3,5,5] = binary(%p, %x) {kind=add} loc("residual")
                  %y: f32[1,3,5,5] = unary(%sum) {act=leaky_relu(0.1)} loc("act")
                  return %y
                }
                """, "fuse-epilogues", PASS, "dce");
        assertEquals("""
                graph @block(%x: f32[1,3,5,5]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %pw.weight: f32[3,3,1,1]
                  const %pw.bias: f32[3]
                  const %dw.weight.zero_bias: f32[3]
                  %y: f32[1,3,5,5] = fused_dw_pw_conv(%x, %dw.weight, %dw.weight.zero_bias, %pw.weight, %pw.bias, %x) \
                {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], midAct=relu, epilogue=[add, leaky_relu(0.1)]} loc("pw")
                  return %y
                }
                """, result.graph().toString());
    }

    @Test
    void refusesWhenDepthwiseOutputHasSecondConsumer() {
        Graph g = parse("""
                graph @shared(%x: f32[2,3,5,5]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %pw.weight: f32[4,3,1,1]
                  %d: f32[2,3,5,5] = conv2d(%x, %dw.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=3} loc("dw")
                  %p: f32[2,4,5,5] = conv2d(%d, %pw.weight) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw")
                  %side: f32[2,3,5,5] = unary(%d) {act=tanh} loc("side")
                  return %p, %side
                }
                """);
        var result = run(g, PASS);
        assertEquals(g.toString(), result.graph().toString(), "nothing changes");
        assertTrue(onlyRefusal(result, SECOND_CONSUMER).contains("side (%side)"), "the refusal names the other consumer: " + result.report());
    }

    @Test
    void refusesWhenPointwiseKernelIsNot1x1() {
        var result = run(nearMiss("[4,3,3,3]", "f32[1,4,5,5]", "stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1"), PASS);
        assertEquals("pointwise kernel is 3x3, not 1x1", onlyRefusal(result, NOT_POINTWISE));
        assertEquals(0, result.report().count(PASS));
    }

    @Test
    void refusesStridedPointwise() {
        var result = run(nearMiss("[4,3,1,1]", "f32[1,4,3,3]", "stride=[2,2], padding=[0,0,0,0], dilation=[1,1], groups=1"), PASS);
        assertEquals("pointwise conv has stride 2x2", onlyRefusal(result, NOT_POINTWISE));
    }

    @Test
    void refusesGroupedPointwise() {
        var result = run(nearMiss("[6,1,1,1]", "f32[1,6,5,5]", "stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=3"), PASS);
        assertEquals("pointwise conv has groups=3", onlyRefusal(result, NOT_POINTWISE));
    }

    @Test
    void refusesWhenTheDepthwiseEpilogueHasTwoActivations() {
        // the fused op applies one activation between the convs: relu and exp both joined the depthwise conv's epilogue
        var result = run("""
                graph @between(%x: f32[1,3,5,5]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %pw.weight: f32[4,3,1,1]
                  %d: f32[1,3,5,5] = conv2d(%x, %dw.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=3} loc("dw")
                  %r: f32[1,3,5,5] = unary(%d) {act=relu} loc("relu")
                  %e: f32[1,3,5,5] = unary(%r) {act=exp} loc("exp")
                  %p: f32[1,4,5,5] = conv2d(%e, %pw.weight) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw")
                  return %p
                }
                """, "fuse-epilogues", PASS);
        assertTrue(result.report().refused().stream().anyMatch(d -> d.kind() == ORDER
                        && d.detail().equals("depthwise conv's epilogue [relu, exp] has more than the one activation the fused op applies between the convs")),
                result.report()::toString);
        assertEquals(0, result.report().count(PASS));
    }

    /** A 3-channel depthwise conv on [1,3,5,5] feeding a conv with the given weight, result type and attributes. */
    private static String nearMiss(String weight, String resultType, String attributes) {
        return """
                graph @near_miss(%x: f32[1,3,5,5]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %w: f32WEIGHT
                  %d: f32[1,3,5,5] = conv2d(%x, %dw.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=3} loc("dw")
                  %p: RESULT = conv2d(%d, %w) {ATTRIBUTES} loc("next")
                  return %p
                }
                """.replace("WEIGHT", weight).replace("RESULT", resultType).replace("ATTRIBUTES", attributes);
    }
}
