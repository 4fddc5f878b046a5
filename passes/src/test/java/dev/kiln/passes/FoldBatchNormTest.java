package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.BatchNorm2d;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.NOT_CONSTANT;
import static dev.kiln.passes.FusionReport.Kind.NOT_THE_PATTERN;
import static dev.kiln.passes.FusionReport.Kind.PRECISION;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;
import static org.junit.jupiter.api.Assertions.*;

/** conv/linear → batch_norm2d becomes the conv/linear with scaled weights and a shifted bias. */
class FoldBatchNormTest {
    static final String PASS = "fold-batch-norm";

    @Test
    void foldsIntoPrecedingConv() {
        Graph g = parse("""
                graph @conv_bn(%x: f32[2,3,5,5]) {
                  const %conv.weight: f32[4,3,3,3]
                  const %conv.bias: f32[4]
                  const %bn.weight: f32[4]
                  const %bn.bias: f32[4]
                  const %bn.running_mean: f32[4]
                  const %bn.running_var: f32[4]
                  %c: f32[2,4,5,5] = conv2d(%x, %conv.weight, %conv.bias) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1} loc("conv")
                  %y: f32[2,4,5,5] = batch_norm2d(%c, %bn.weight, %bn.bias, %bn.running_mean, %bn.running_var) {eps=0.001} loc("bn")
                  return %y
                }
                """);
        var result = run(g, PASS, "dce");
        Graph after = result.graph();
        assertEquals("""
                graph @conv_bn(%x: f32[2,3,5,5]) {
                  const %conv.weight.bn_folded: f32[4,3,3,3]
                  const %conv.bias.bn_folded: f32[4]
                  %y: f32[2,4,5,5] = conv2d(%x, %conv.weight.bn_folded, %conv.bias.bn_folded) \
                {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1} loc("bn")
                  return %y
                }
                """, after.toString());
        // output channel 2: s = γ/√(var+ε); w' = w·s; b' = (b − mean)·s + β
        double s = g.weight("bn.weight").data()[2] / Math.sqrt(g.weight("bn.running_var").data()[2] + 0.001);
        assertEquals(g.weight("conv.weight").data()[2 * 27 + 5] * s, after.weight("conv.weight.bn_folded").data()[2 * 27 + 5], 1e-6);
        assertEquals((g.weight("conv.bias").data()[2] - g.weight("bn.running_mean").data()[2]) * s + g.weight("bn.bias").data()[2],
                after.weight("conv.bias.bn_folded").data()[2], 1e-6);
        assertEquals(1, result.report().count(PASS));
    }

    @Test
    void foldsIntoDepthwiseConvWithoutBias() {
        // as MobileNet's blocks: the conv has no bias, so the fold makes one
        Graph after = run("""
                graph @dw_bn(%x: f32[1,3,4,4]) {
                  const %dw.weight: f32[3,1,3,3]
                  const %gamma: f32[3]
                  const %beta: f32[3]
                  const %mean: f32[3]
                  const %var: f32[3]
                  %c: f32[1,3,2,2] = conv2d(%x, %dw.weight) {stride=[2,2], padding=[1,1,1,1], dilation=[1,1], groups=3}
                  %y: f32[1,3,2,2] = batch_norm2d(%c, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """, PASS, "dce").graph();
        assertEquals("  %y: f32[1,3,2,2] = conv2d(%x, %dw.weight.bn_folded, %dw.weight.bias.bn_folded) "
                + "{stride=[2,2], padding=[1,1,1,1], dilation=[1,1], groups=3}", FuseEpiloguesTest.line(after, "%y"));
    }

    @Test
    void foldsIntoLinear() {
        Graph after = run("""
                graph @fc_bn(%x: f32[3,5]) {
                  const %fc.weight: f32[7,5]
                  const %gamma: f32[7]
                  const %beta: f32[7]
                  const %mean: f32[7]
                  const %var: f32[7]
                  %f: f32[3,7] = linear(%x, %fc.weight)
                  %y: f32[3,7] = batch_norm2d(%f, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """, PASS, "dce").graph();
        assertEquals(0, count(after, BatchNorm2d.class), after::toString);
        assertEquals(1, after.nodes().size(), after::toString);
    }

    @Test
    void refusesWhenConvHasSecondConsumer() {
        var result = run("""
                graph @shared(%x: f32[1,2,3,3]) {
                  const %w: f32[2,2,1,1]
                  const %gamma: f32[2]
                  const %beta: f32[2]
                  const %mean: f32[2]
                  const %var: f32[2]
                  %c: f32[1,2,3,3] = conv2d(%x, %w) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1}
                  %y: f32[1,2,3,3] = batch_norm2d(%c, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  %z: f32[1,2,3,3] = binary(%y, %c) {kind=add}
                  return %z
                }
                """, PASS);
        onlyRefusal(result, SECOND_CONSUMER);
        assertEquals(1, count(result.graph(), BatchNorm2d.class));
    }

    @Test
    void refusesWhenInputIsNotConvOrLinear() {
        var result = run("""
                graph @not_conv(%x: f32[1,2,3,3]) {
                  const %gamma: f32[2]
                  const %beta: f32[2]
                  const %mean: f32[2]
                  const %var: f32[2]
                  %a: f32[1,2,3,3] = unary(%x) {act=tanh}
                  %y: f32[1,2,3,3] = batch_norm2d(%a, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """, PASS);
        onlyRefusal(result, NOT_THE_PATTERN);
    }

    @Test
    void refusesParametersThatAreNotConstants() {
        // statistics fed at run time cannot be folded at compile time
        var result = run("""
                graph @runtime_stats(%x: f32[1,2,3,3], %gamma: f32[2]) {
                  const %w: f32[2,2,1,1]
                  const %beta: f32[2]
                  const %mean: f32[2]
                  const %var: f32[2]
                  %c: f32[1,2,3,3] = conv2d(%x, %w) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1}
                  %y: f32[1,2,3,3] = batch_norm2d(%c, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """, PASS);
        assertEquals("batch-norm parameter %gamma is not a bound constant", onlyRefusal(result, NOT_CONSTANT));
    }

    @Test
    void refusesLinearOverASequence() {
        // on [B,T,N] the batch norm's channel axis 1 is T, not the linear's output features
        var result = run("""
                graph @seq_bn(%x: f32[2,3,4]) {
                  const %fc.weight: f32[5,4]
                  const %gamma: f32[3]
                  const %beta: f32[3]
                  const %mean: f32[3]
                  const %var: f32[3]
                  %f: f32[2,3,5] = linear(%x, %fc.weight)
                  %y: f32[2,3,5] = batch_norm2d(%f, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """, PASS);
        onlyRefusal(result, SHAPE_MISMATCH);
    }

    @Test
    void refusesWhenAScaledWeightWouldUnderflow() {
        Graph g = IrParser.parse("""
                graph @tiny_gamma(%x: f32[1,1,1,1]) {
                  const %w: f32[1,1,1,2]
                  const %gamma: f32[1]
                  const %beta: f32[1]
                  const %mean: f32[1]
                  const %var: f32[1]
                  %c: f32[1,1,1,1] = conv2d(%x, %w) {stride=[1,1], padding=[0,1,0,0], dilation=[1,1], groups=1} loc("conv")
                  %y: f32[1,1,1,1] = batch_norm2d(%c, %gamma, %beta, %mean, %var) {eps=1.0E-5} loc("bn")
                  return %y
                }
                """);
        // -9.2e-11 · 3.6e-40/√1e-5 underflows to 0, and 0·∞ = NaN where the graph gives -∞
        g = g.withWeights(java.util.Map.of(
                "w", HostTensor.of(Shape.of(1, 1, 1, 2), new float[] {1.05f, -9.2e-11f}),
                "gamma", HostTensor.of(Shape.of(1), new float[] {3.6e-40f}),
                "beta", HostTensor.of(Shape.of(1), new float[] {0}),
                "mean", HostTensor.of(Shape.of(1), new float[] {0}),
                "var", HostTensor.of(Shape.of(1), new float[] {0})));
        var result = PassManager.of(java.util.List.of(PASS)).run(g);
        assertEquals(1, count(result.graph(), BatchNorm2d.class));
        assertTrue(onlyRefusal(result, PRECISION).contains("underflows to 0"), result.report()::toString);
    }
}
