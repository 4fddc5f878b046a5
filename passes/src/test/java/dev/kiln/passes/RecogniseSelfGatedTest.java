package dev.kiln.passes;

import dev.kiln.ir.Graph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.kiln.passes.CheckedRewrite.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** x·σ(x), x·hardsigmoid(x) and x·tanh(softplus(x)) become the activation they are, so the producer of x can fuse it. */
class RecogniseSelfGatedTest {
    static final String PASS = "recognise-self-gated";
    static final String CONV = "stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1";

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "%g: f32[1,3,4,4] = unary(%c) {act=sigmoid} loc(\"gate\");                %c, %g;  silu",
            "%g: f32[1,3,4,4] = unary(%c) {act=sigmoid} loc(\"gate\");                %g, %c;  silu",
            "%g: f32[1,3,4,4] = unary(%c) {act=hard_sigmoid(0.16666667,0.5)} loc(\"gate\"); %c, %g; hard_swish"})
    void rewritesTheProductIntoOneActivation(String gate, String operands, String act) {
        Graph after = run("""
                graph @gated(%x: f32[1,3,4,4]) {
                  GATE
                  %y: f32[1,3,4,4] = binary(OPERANDS) {kind=mul} loc("mul")
                  return %y
                }
                """.replace("GATE", gate.replace("%c", "%x")).replace("OPERANDS", operands.replace("%c", "%x")), PASS).graph();
        assertEquals("""
                graph @gated(%x: f32[1,3,4,4]) {
                  %y: f32[1,3,4,4] = unary(%x) {act=ACT} loc("mul")
                  return %y
                }
                """.replace("ACT", act), after.toString());
    }

    @Test
    void rewritesMishThroughItsSoftplus() {
        Graph after = run("""
                graph @mish(%x: f32[2,5]) {
                  %s: f32[2,5] = unary(%x) {act=softplus} loc("softplus")
                  %t: f32[2,5] = unary(%s) {act=tanh} loc("tanh")
                  %y: f32[2,5] = binary(%t, %x) {kind=mul} loc("mul")
                  return %y
                }
                """, PASS).graph();
        assertTrue(after.toString().contains("%y: f32[2,5] = unary(%x) {act=mish}"), after::toString);
        assertEquals(1, after.nodes().size(), after::toString);
    }

    @Test
    void leavesAGateThatIsReadElsewhereOrOfAnotherValue() {
        String ir = """
                graph @kept(%x: f32[2,5], %z: f32[2,5]) {
                  %g: f32[2,5] = unary(%x) {act=sigmoid} loc("gate")
                  %y: f32[2,5] = binary(%x, %g) {kind=mul} loc("mul")
                  %h: f32[2,5] = unary(%z) {act=sigmoid} loc("other gate")
                  %w: f32[2,5] = binary(%x, %h) {kind=mul} loc("mul2")
                  %k: f32[2,5] = unary(%x) {act=hard_sigmoid(0.2,0.5)} loc("onnx default hardsigmoid")
                  %v: f32[2,5] = binary(%x, %k) {kind=mul} loc("mul3")
                  return %y, %g, %w, %v
                }
                """;
        Graph g = CheckedRewrite.parse(ir);
        assertEquals(g.toString(), run(g, PASS).graph().toString(), "σ(x) is an output, σ(z) gates x, hardsigmoid has slope 0.2");
    }

    /** The point of the pass: the conv's output had two readers (σ and the product); now one, an activation the conv takes. */
    @Test
    void convFollowedBySelfGatedProductFusesInTheDefaultPipeline() {
        Graph g = CheckedRewrite.parse("""
                graph @conv_silu(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV} loc("conv")
                  %g: f32[1,3,4,4] = unary(%c) {act=sigmoid} loc("gate")
                  %y: f32[1,3,4,4] = binary(%c, %g) {kind=mul} loc("mul")
                  return %y
                }
                """.replace("CONV", CONV));
        Graph without = run(g, "fuse-epilogues", "dce").graph();
        assertEquals(3, without.nodes().size(), "without the pass the conv stays unfused: " + without);
        var result = PassManager.defaults().run(g);
        Equivalence.assertEquivalent(g, result.graph(), 7);
        assertEquals("""
                graph @conv_silu(%x: f32[1,2,4,4]) {
                  const %w: f32[3,2,3,3]
                  const %b: f32[3]
                  %y: f32[1,3,4,4] = conv2d(%x, %w, %b) {CONV, epilogue=[silu]} loc("conv")
                  return %y
                }
                """.replace("CONV", CONV), result.graph().toString());
    }
}
