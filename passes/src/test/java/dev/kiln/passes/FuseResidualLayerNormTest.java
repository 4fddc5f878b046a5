package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.ResidualLayerNorm;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LN(x + r) becomes one residual_layer_norm, unless the sum is read elsewhere, returned, or broadcast. */
class FuseResidualLayerNormTest {
    static final String PASS = "fuse-residual-layer-norm";

    @Test
    void fusesTheAddIntoTheLayerNormWithItsAffine() {
        PassManager.Result r = run("""
                graph @addnorm(%x: f32[2,6,16], %r: f32[2,6,16]) {
                  const %g: f32[16]
                  const %b: f32[16]
                  %s: f32[2,6,16] = binary(%x, %r) {kind=add} loc("add")
                  %y: f32[2,6,16] = layer_norm(%s, %g, %b) {axis=2, eps=1.0E-5} loc("norm")
                  return %y
                }
                """, PASS);
        assertEquals("""
                graph @addnorm(%x: f32[2,6,16], %r: f32[2,6,16]) {
                  const %g: f32[16]
                  const %b: f32[16]
                  %y: f32[2,6,16] = residual_layer_norm(%x, %r, %g, %b) {axis=2, eps=1.0E-5} loc("norm")
                  return %y
                }
                """, r.graph().toString());
        assertTrue(r.report().toString().contains("add + layer_norm → residual_layer_norm"), r.report()::toString);
    }

    @Test
    void fusesAnAddOfAValueWithItselfAndANormWithoutAffine() {
        Graph g = run("""
                graph @twice(%x: f32[3,8]) {
                  %s: f32[3,8] = binary(%x, %x) {kind=add} loc("add")
                  %y: f32[3,8] = layer_norm(%s) {axis=0, eps=0.001} loc("norm")
                  return %y
                }
                """, PASS).graph();
        assertEquals(1, count(g, ResidualLayerNorm.class), g::toString);
        assertEquals(1, g.nodes().size(), g::toString);
    }

    @Test
    void refusesWhenTheSumIsReadElsewhereAsInAPreNormBlock() {
        PassManager.Result r = run("""
                graph @prenorm(%x: f32[2,16], %r: f32[2,16]) {
                  %s: f32[2,16] = binary(%x, %r) {kind=add} loc("add")
                  %n: f32[2,16] = layer_norm(%s) {axis=1, eps=1.0E-5} loc("norm")
                  %y: f32[2,16] = binary(%s, %n) {kind=add} loc("residual")
                  return %y
                }
                """, PASS);
        assertTrue(onlyRefusal(r, FusionReport.Kind.SECOND_CONSUMER).contains("another consumer"));
        assertEquals(1, count(r.graph(), LayerNorm.class));
    }

    @Test
    void refusesWhenTheSumIsAGraphOutputOrBroadcasts() {
        PassManager.Result out = run("""
                graph @out(%x: f32[2,16], %r: f32[2,16]) {
                  %s: f32[2,16] = binary(%x, %r) {kind=add} loc("add")
                  %y: f32[2,16] = layer_norm(%s) {axis=1, eps=1.0E-5} loc("norm")
                  return %s, %y
                }
                """, PASS);
        assertTrue(onlyRefusal(out, FusionReport.Kind.GRAPH_OUTPUT).contains("graph output"));
        PassManager.Result broadcast = run("""
                graph @bias(%x: f32[2,16], %r: f32[16]) {
                  %s: f32[2,16] = binary(%x, %r) {kind=add} loc("add")
                  %y: f32[2,16] = layer_norm(%s) {axis=1, eps=1.0E-5} loc("norm")
                  return %y
                }
                """, PASS);
        assertTrue(onlyRefusal(broadcast, FusionReport.Kind.SHAPE_MISMATCH).contains("broadcasts"));
        assertEquals(1, count(broadcast.graph(), Binary.class));
    }
}
