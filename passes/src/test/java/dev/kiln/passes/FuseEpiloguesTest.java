package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Combine;
import dev.kiln.ir.op.FusedLinear;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What follows a conv or linear joins its epilogue in the order the epilogue defines:
 * bias, residual add, activation, gating multiply. Anything out of that order stays outside.
 */
class FuseEpiloguesTest {
    static final String PASS = "fuse-epilogues";
    static final String CONV = "stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1";

    @Test
    void fusesBiasAddAndRelu() {
        Graph g = parse("""
                graph @bias_relu(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  const %shift: f32[3,1,1]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV} loc("conv")
                  %biased: f32[1,3,4,4] = binary(%c, %shift) {kind=add} loc("bias")
                  %y: f32[1,3,4,4] = unary(%biased) {act=relu} loc("relu")
                  return %y
                }
                """.replace("CONV", CONV));
        Graph after = run(g, PASS, "dce").graph();
        assertEquals("""
                graph @bias_relu(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %w.bias_fused: f32[3]
                  %y: f32[1,3,4,4] = fused_conv2d(%x, %w, %w.bias_fused) {CONV, act=relu, combine=none} loc("conv")
                  return %y
                }
                """.replace("CONV", CONV), after.toString());
        float[] b = g.weight("b").data(), shift = g.weight("shift").data(), fused = after.weight("w.bias_fused").data();
        for (int i = 0; i < 3; i++) assertEquals(b[i] + shift[i], fused[i], "the constant is added to the conv's bias once, at compile time");
    }

    @Test
    void anyActivationIrDefinesFusesWithItsParameters() {
        Graph g = parse("""
                graph @relu6(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %y: f32[1,3,4,4] = unary(%c) {act=clip(0.0,6.0)} loc("relu6")
                  return %y
                }
                """.replace("CONV", CONV));
        Graph after = run(g, PASS, "dce").graph();
        assertTrue(after.toString().contains("= fused_conv2d(%x, %w, %w.zero_bias) {" + CONV + ", act=clip(0.0,6.0), combine=none}"), after::toString);
    }

    @Test
    void reportsWhyAnActivationStayedOnItsOwn() {
        var report = run(parse("""
                graph @two_uses(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %r: f32[1,3,4,4] = unary(%c) {act=relu} loc("relu")
                  %t: f32[1,3,4,4] = unary(%c) {act=tanh} loc("tanh")
                  return %r, %t
                }
                """.replace("CONV", CONV)), PASS).report();
        assertTrue(report.refused().stream().anyMatch(d -> d.kind() == SECOND_CONSUMER
                        && d.detail().startsWith("output has 2 consumers, so relu (%r) (unary) cannot join")),
                report::toString);
        var second = run(parse("""
                graph @twice(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %r: f32[1,3,4,4] = unary(%c) {act=relu} loc("relu")
                  %t: f32[1,3,4,4] = unary(%r) {act=hard_swish} loc("hswish")
                  return %t
                }
                """.replace("CONV", CONV)), PASS).report();
        assertTrue(second.refused().stream().anyMatch(d -> d.kind() == ORDER
                        && d.detail().contains("already applies relu; hswish (%t) (unary) would be a second activation")),
                second::toString);
    }

    @Test
    void fusesLinearBiasAndGelu() {
        Graph g = parse("""
                graph @fc(%x: f32[2,5,3]) {
                  const %fc.weight: f32[7,3]
                  const %fc.bias: f32[7]
                  %y: f32[2,5,7] = linear(%x, %fc.weight)
                  %biased: f32[2,5,7] = binary(%fc.bias, %y) {kind=add}
                  %out: f32[2,5,7] = unary(%biased) {act=gelu}
                  return %out
                }
                """);
        Graph after = run(g, PASS, "dce").graph();
        assertEquals(1, after.nodes().size(), after::toString);
        Node fused = after.nodes().getFirst();
        assertEquals(new FusedLinear(Act.GELU, Combine.NONE), fused.op());
        assertArrayEquals(g.weight("fc.bias").data(), after.weight(fused.inputs().get(2)).data(), "the added constant became the bias");
    }

    @Test
    void fusesResidualAddThenRelu() {
        Graph after = run("""
                graph @residual(%x: f32[1,2,4,4], %r: f32[1,3,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV}
                  %sum: f32[1,3,4,4] = binary(%r, %c) {kind=add}
                  %y: f32[1,3,4,4] = unary(%sum) {act=relu}
                  return %y
                }
                """.replace("CONV", CONV), PASS).graph();
        assertEquals("  %y: f32[1,3,4,4] = fused_conv2d(%x, %w, %b, %r) {" + CONV + ", act=relu, combine=add}", line(after, "%y"));
    }

    @Test
    void fusesGateMulAfterActivation() {
        Graph after = run("""
                graph @gated(%x: f32[2,4], %g: f32[2,6]) {
                  const %fc.weight: f32[6,4]
                  const %fc.bias: f32[6]
                  %y: f32[2,6] = linear(%x, %fc.weight, %fc.bias)
                  %s: f32[2,6] = unary(%y) {act=sigmoid}
                  %out: f32[2,6] = binary(%s, %g) {kind=mul}
                  return %out
                }
                """, PASS).graph();
        assertEquals("  %out: f32[2,6] = fused_linear(%x, %fc.weight, %fc.bias, %g) {act=sigmoid, combine=mul}", line(after, "%out"));
    }

    @Test
    void fusesGateThroughReshape() {
        // as the adaptive attention's x · attention(x), where the attention's result is viewed back as an image:
        // the gate is viewed the other way instead, and the view moves after the fused op
        Graph after = run("""
                graph @through_view(%x: f32[1,2,3,5], %g: f32[1,4,15]) {
                  const %w: f32[4,2,3,3]
                  const %b: f32[4]
                  %c: f32[1,4,3,5] = conv2d(%x, %w, %b) {CONV} loc("conv")
                  %a: f32[1,4,3,5] = unary(%c) {act=relu} loc("relu")
                  %v: f32[1,4,15] = reshape(%a) {shape=[1,4,15]} loc("view")
                  %y: f32[1,4,15] = binary(%v, %g) {kind=mul} loc("gate")
                  return %y
                }
                """.replace("CONV", CONV), PASS).graph();
        assertEquals("""
                graph @through_view(%x: f32[1,2,3,5], %g: f32[1,4,15]) {
                  const %w: f32[4,2,3,3]
                  const %b: f32[4]
                  %g.as_c: f32[1,4,3,5] = reshape(%g) {shape=[1,4,3,5]} loc("gate")
                  %c: f32[1,4,3,5] = fused_conv2d(%x, %w, %b, %g.as_c) {CONV, act=relu, combine=mul} loc("conv")
                  %y: f32[1,4,15] = reshape(%c) {shape=[1,4,15]} loc("gate")
                  return %y
                }
                """.replace("CONV", CONV), after.toString());
    }

    @Test
    void refusesAddAfterActivation() {
        // relu(conv) + r is not conv's epilogue (which adds before the activation): the relu fuses, the add stays
        Graph after = run("""
                graph @late_add(%x: f32[1,2,4,4], %r: f32[1,3,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV}
                  %a: f32[1,3,4,4] = unary(%c) {act=relu}
                  %y: f32[1,3,4,4] = binary(%a, %r) {kind=add}
                  return %y
                }
                """.replace("CONV", CONV), PASS).graph();
        assertEquals("  %a: f32[1,3,4,4] = fused_conv2d(%x, %w, %b) {" + CONV + ", act=relu, combine=none}", line(after, "%a"));
        assertEquals("  %y: f32[1,3,4,4] = binary(%a, %r) {kind=add}", line(after, "%y"));
    }

    @Test
    void refusesConstantThatIsNotPerChannel() {
        // a [4,4] constant adds per pixel, not per channel: not a bias, and not of the result's shape either
        Graph g = parse("""
                graph @per_pixel(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %k: f32[4,4]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV}
                  %y: f32[1,3,4,4] = binary(%c, %k) {kind=add}
                  return %y
                }
                """.replace("CONV", CONV));
        var result = run(g, PASS);
        assertEquals(g.toString(), result.graph().toString());
        assertTrue(result.report().fused().isEmpty());
    }

    @Test
    void leavesResultWithSecondConsumerAlone() {
        Graph g = parse("""
                graph @shared(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV}
                  %y: f32[1,3,4,4] = unary(%c) {act=relu}
                  return %y, %c
                }
                """.replace("CONV", CONV));
        assertEquals(g.toString(), run(g, PASS).graph().toString());
    }

    /** The line of g's text IR that defines value. */
    static String line(Graph g, String value) {
        return g.toString().lines().filter(l -> l.startsWith("  " + value + ":")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + value + " in\n" + g));
    }
}
