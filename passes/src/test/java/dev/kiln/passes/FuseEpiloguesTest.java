package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static org.junit.jupiter.api.Assertions.*;

/**
 * What follows a conv, linear or matmul is appended to its epilogue in the order the chain
 * applies it: a constant bias first, then any activations and at most one add and one mul of
 * one extra operand. What would need a second extra operand stays outside, with the reason.
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
                  %y: f32[1,3,4,4] = conv2d(%x, %w, %w.bias_fused) {CONV, epilogue=[relu]} loc("conv")
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
        assertTrue(after.toString().contains("= conv2d(%x, %w, %w.zero_bias) {" + CONV + ", epilogue=[clip(0.0,6.0)]}"), after::toString);
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
                graph @two_extras(%x: f32[1,2,4,4], %r: f32[1,3,4,4], %q: f32[1,3,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %s: f32[1,3,4,4] = binary(%c, %r) {kind=add} loc("residual")
                  %t: f32[1,3,4,4] = binary(%s, %q) {kind=add} loc("second")
                  return %t
                }
                """.replace("CONV", CONV)), PASS).report();
        assertTrue(second.refused().stream().anyMatch(d -> d.kind() == ORDER
                        && d.detail().contains("already joins its extra operand by add; second (%t) (binary) would be a second add")),
                second::toString);
        var other = run(parse("""
                graph @other_extra(%x: f32[1,2,4,4], %r: f32[1,3,4,4], %q: f32[1,3,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %s: f32[1,3,4,4] = binary(%c, %r) {kind=add} loc("residual")
                  %t: f32[1,3,4,4] = binary(%s, %q) {kind=mul} loc("gate")
                  return %t
                }
                """.replace("CONV", CONV)), PASS).report();
        assertTrue(other.refused().stream().anyMatch(d -> d.kind() == ORDER
                        && d.detail().contains("already reads %r as its extra operand; gate (%t) (binary) would need a second one (%q)")),
                other::toString);
    }

    @Test
    void fusesEveryActivationOfAChain() {
        // conv → relu → hard_swish → clip: all three join, composed in order
        Graph after = run(parse("""
                graph @chain(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w) {CONV} loc("conv")
                  %r: f32[1,3,4,4] = unary(%c) {act=relu} loc("relu")
                  %h: f32[1,3,4,4] = unary(%r) {act=hard_swish} loc("hswish")
                  %t: f32[1,3,4,4] = unary(%h) {act=clip(0.0,6.0)} loc("relu6")
                  return %t
                }
                """.replace("CONV", CONV)), PASS, "dce").graph();
        assertEquals("  %t: f32[1,3,4,4] = conv2d(%x, %w, %w.zero_bias) {" + CONV + ", epilogue=[relu, hard_swish, clip(0.0,6.0)]} loc(\"conv\")",
                line(after, "%t"));
    }

    @Test
    void fusesSigmoidThenGateThenResidualOfTheSameOperand() {
        // sigmoid(conv)·r + r: one extra operand, joined by mul and then by add
        Graph after = run("""
                graph @same_extra(%x: f32[1,2,4,4], %r: f32[1,3,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV}
                  %s: f32[1,3,4,4] = unary(%c) {act=sigmoid}
                  %g: f32[1,3,4,4] = binary(%s, %r) {kind=mul}
                  %y: f32[1,3,4,4] = binary(%r, %g) {kind=add}
                  return %y
                }
                """.replace("CONV", CONV), PASS).graph();
        assertEquals("  %y: f32[1,3,4,4] = conv2d(%x, %w, %b, %r) {" + CONV + ", epilogue=[sigmoid, mul, add]}", line(after, "%y"));
    }

    @Test
    void fusesAnEpilogueIntoAMatMul() {
        Graph after = run("""
                graph @mm(%a: f32[2,3,4], %b: f32[2,4,5], %r: f32[2,3,5]) {
                  %m: f32[2,3,5] = mat_mul(%a, %b)
                  %t: f32[2,3,5] = unary(%m) {act=tanh}
                  %y: f32[2,3,5] = binary(%t, %r) {kind=add}
                  return %y
                }
                """, PASS).graph();
        assertEquals("  %y: f32[2,3,5] = mat_mul(%a, %b, %r) {epilogue=[tanh, add]}", line(after, "%y"));
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
        assertEquals(new Linear(Epilogue.of(Act.GELU)), fused.op());
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
        assertEquals("  %y: f32[1,3,4,4] = conv2d(%x, %w, %b, %r) {" + CONV + ", epilogue=[add, relu]}", line(after, "%y"));
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
        assertEquals("  %out: f32[2,6] = linear(%x, %fc.weight, %fc.bias, %g) {epilogue=[sigmoid, mul]}", line(after, "%out"));
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
                  %c: f32[1,4,3,5] = conv2d(%x, %w, %b, %g.as_c) {CONV, epilogue=[relu, mul]} loc("conv")
                  %y: f32[1,4,15] = reshape(%c) {shape=[1,4,15]} loc("gate")
                  return %y
                }
                """.replace("CONV", CONV), after.toString());
    }

    @Test
    void fusesAddAfterActivation() {
        // relu(conv) + r: the add follows the relu in the epilogue, as in the chain
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
        assertEquals("  %y: f32[1,3,4,4] = conv2d(%x, %w, %b, %r) {" + CONV + ", epilogue=[relu, add]}", line(after, "%y"));
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
