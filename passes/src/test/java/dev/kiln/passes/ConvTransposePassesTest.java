package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.ConvTranspose2d;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A transposed conv is an epilogue anchor like conv2d: batch norm folds into it (scaling its
 * weight along axis 1, the output channels of [C, O/groups, KH, KW]), and bias, activations and a
 * residual fuse into its epilogue. Each rewrite is checked against the reference by CheckedRewrite.
 */
class ConvTransposePassesTest {
    @Test
    void foldsBatchNormIntoGroupedTransposedConvAlongItsOutputAxis() {
        Graph g = parse("""
                graph @ct_bn(%x: f32[1,4,3,3]) {
                  const %up.weight: f32[4,3,3,3]
                  const %gamma: f32[6]
                  const %beta: f32[6]
                  const %mean: f32[6]
                  const %var: f32[6]
                  %c: f32[1,6,6,6] = conv_transpose2d(%x, %up.weight) {stride=[2,2], padding=[1,1,1,1], outputPadding=[1,1], dilation=[1,1], groups=2, epilogue=[]}
                  %y: f32[1,6,6,6] = batch_norm2d(%c, %gamma, %beta, %mean, %var) {eps=1.0E-5}
                  return %y
                }
                """);
        Graph after = run(g, "fold-batch-norm", "dce").graph();
        assertEquals(0, count(after, BatchNorm2d.class));
        assertEquals(1, count(after, ConvTranspose2d.class));
        // weight element [ic=3][j=1][2][0] feeds output channel (3 / 2)·3 + 1 = 4 (group 1)
        int i = ((3 * 3 + 1) * 3 + 2) * 3;
        double s = g.weight("gamma").data()[4] / Math.sqrt(g.weight("var").data()[4] + 1e-5);
        assertEquals(g.weight("up.weight").data()[i] * s, after.weight("up.weight.bn_folded").data()[i], 1e-6);
    }

    @Test
    void fusesBiasReluAndResidualIntoItsEpilogue() {
        Graph after = run("""
                graph @ct_epi(%x: f32[1,3,4,4], %skip: f32[1,2,8,8]) {
                  const %w: f32[3,2,4,4]
                  const %b: f32[1,2,1,1]
                  %c: f32[1,2,8,8] = conv_transpose2d(%x, %w) {stride=[2,2], padding=[1,1,1,1], outputPadding=[0,0], dilation=[1,1], groups=1, epilogue=[]}
                  %d: f32[1,2,8,8] = binary(%c, %b) {kind=add}
                  %e: f32[1,2,8,8] = unary(%d) {act=relu}
                  %y: f32[1,2,8,8] = binary(%e, %skip) {kind=add}
                  return %y
                }
                """, "fuse-epilogues", "dce").graph();
        assertEquals(1, after.nodes().size(), after::toString);
        ConvTranspose2d t = (ConvTranspose2d) after.nodes().getFirst().op();
        assertEquals("[relu, add]", t.epilogue().toString());
    }
}
