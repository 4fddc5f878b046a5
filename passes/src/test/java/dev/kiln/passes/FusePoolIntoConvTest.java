package dev.kiln.passes;

import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.onlyRefusal;
import static dev.kiln.passes.CheckedRewrite.run;
import static dev.kiln.passes.FusionReport.Kind.GRAPH_OUTPUT;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** conv2d (+ epilogue) → max/avg pool becomes one conv2d whose epilogue ends with the pool; refusals name their reason. */
class FusePoolIntoConvTest {
    static final String PASS = "fuse-pool-into-conv";

    @Test
    void fusesConvReluMaxPoolAfterEpilogueFusion() {
        var result = run("""
                graph @cnn(%x: f32[1,3,8,8]) {
                  const %w: f32[4,3,3,3]
                  const %b: f32[4]
                  %c: f32[1,4,8,8] = conv2d(%x, %w, %b) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1} loc("conv")
                  %r: f32[1,4,8,8] = unary(%c) {act=relu} loc("relu")
                  %p: f32[1,4,4,4] = max_pool2d(%r) {kernel=[2,2], stride=[2,2], padding=[0,0,0,0]} loc("pool")
                  return %p
                }
                """, "fuse-epilogues", PASS, "dce");
        assertEquals("""
                graph @cnn(%x: f32[1,3,8,8]) {
                  const %w: f32[4,3,3,3]
                  const %b: f32[4]
                  %p: f32[1,4,4,4] = conv2d(%x, %w, %b) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1, \
                epilogue=[relu, max_pool(k=2x2,s=2x2,p=0x0x0x0)]} loc("conv")
                  return %p
                }
                """, result.graph().toString());
        assertEquals(1, result.report().count(PASS));
        assertEquals(4 * 4 * 8 * 8, result.report().bytesSaved() - 4 * 4 * 8 * 8, "relu's and the conv's [1,4,8,8] are never stored");
    }

    @Test
    void fusesAnAveragePoolWithPadding() {
        var result = run("""
                graph @g(%x: f32[2,3,7,7]) {
                  const %w: f32[8,3,3,3]
                  %c: f32[2,8,5,5] = conv2d(%x, %w) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("conv")
                  %p: f32[2,8,3,3] = avg_pool2d(%c) {kernel=[3,3], stride=[2,2], padding=[1,1,1,1], countIncludePad=false} loc("pool")
                  return %p
                }
                """, PASS);
        assertEquals(1, result.report().count(PASS));
    }

    /** A pipeline that pools first: the depthwise conv's result changes shape, so the dw+pw fusion must refuse it, not drop the pool. */
    @Test
    void aPooledDepthwiseConvIsNotFusedWithItsPointwiseConv() {
        var result = run("""
                graph @g(%x: f32[1,4,8,8]) {
                  const %wd: f32[4,1,3,3]
                  const %wp: f32[6,4,1,1]
                  %d: f32[1,4,8,8] = conv2d(%x, %wd) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=4} loc("dw")
                  %p: f32[1,4,4,4] = max_pool2d(%d) {kernel=[2,2], stride=[2,2], padding=[0,0,0,0]} loc("pool")
                  %y: f32[1,6,4,4] = conv2d(%p, %wp) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1} loc("pw")
                  return %y
                }
                """, PASS, "fuse-depthwise-pointwise");
        assertEquals(1, result.report().count(PASS));
        assertEquals(true, onlyRefusal(result, ORDER).contains("pools its result"), result.report()::toString);
    }

    @Test
    void refusesWhenTheConvResultHasAnotherReader() {
        var result = run("""
                graph @g(%x: f32[1,3,8,8]) {
                  const %w: f32[4,3,3,3]
                  %c: f32[1,4,8,8] = conv2d(%x, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1} loc("conv")
                  %p: f32[1,4,4,4] = max_pool2d(%c) {kernel=[2,2], stride=[2,2], padding=[0,0,0,0]} loc("pool")
                  %side: f32[1,4,8,8] = unary(%c) {act=relu} loc("side")
                  return %p, %side
                }
                """, PASS);
        assertEquals("the unpooled conv result has another reader", onlyRefusal(result, SECOND_CONSUMER));
    }

    @Test
    void refusesWhenTheConvResultIsAGraphOutput() {
        var result = run("""
                graph @g(%x: f32[1,3,8,8]) {
                  const %w: f32[4,3,3,3]
                  %c: f32[1,4,8,8] = conv2d(%x, %w) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1} loc("conv")
                  %p: f32[1,4,4,4] = max_pool2d(%c) {kernel=[2,2], stride=[2,2], padding=[0,0,0,0]} loc("pool")
                  return %p, %c
                }
                """, PASS);
        assertEquals("the unpooled conv result is a graph output", onlyRefusal(result, GRAPH_OUTPUT));
    }

    @Test
    void refusesAResidualEpilogue() {
        var result = run("""
                graph @g(%x: f32[1,4,8,8]) {
                  const %w: f32[4,4,3,3]
                  const %b: f32[4]
                  %c: f32[1,4,8,8] = conv2d(%x, %w, %b, %x) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=1, epilogue=[add, relu]} loc("conv")
                  %p: f32[1,4,4,4] = max_pool2d(%c) {kernel=[2,2], stride=[2,2], padding=[0,0,0,0]} loc("pool")
                  return %p
                }
                """, PASS);
        assertEquals(ORDER, result.report().refused().getFirst().kind());
    }
}
