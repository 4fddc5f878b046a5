package dev.kiln.frontend.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Resampling;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxTestModel.attr;
import static org.junit.jupiter.api.Assertions.*;

/** DepthToSpace (DCR, CRD) and SpaceToDepth imported as reshape-transpose-reshape, and the DSL's PixelShuffle, by their index formulas. */
class SpaceDepthImportTest {
    static final int B = 2, C = 3, H = 4, W = 5, R = 2;

    static HostTensor run(Graph g, HostTensor x) { return ReferenceInterpreter.run(g, Map.of(g.inputs().getFirst().name(), x)).values().iterator().next(); }

    static HostTensor ramp(int... dims) {
        HostTensor t = HostTensor.normal(Shape.of(dims), 1);
        for (int i = 0; i < t.size(); i++) t.data()[i] = i;
        return t;
    }

    static Graph depthToSpace(String mode) {
        OnnxTestModel m = new OnnxTestModel().input("x", B, C * R * R, H, W);
        OnnxTestModel.Proto bs = attr("blocksize", (long) R);
        m = mode == null ? m.node("DepthToSpace", "x", "y", bs) : m.node("DepthToSpace", "x", "y", bs, attr("mode", mode));
        return OnnxLoweringTest.load(m.output("y"));
    }

    /** y[b, c, h·R + i, w·R + j] = x[b, channel(c, i, j), h, w] for every element. */
    static void checkDepthToSpace(HostTensor x, HostTensor y, boolean crd) {
        assertEquals(Shape.of(B, C, H * R, W * R), y.shape());
        for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) for (int h = 0; h < H; h++) for (int w = 0; w < W; w++)
            for (int i = 0; i < R; i++) for (int j = 0; j < R; j++) {
                int ch = crd ? c * R * R + i * R + j : (i * R + j) * C + c;
                assertEquals(x.get(b, ch, h, w), y.get(b, c, h * R + i, w * R + j), "channel " + ch);
            }
    }

    @Test
    void depthToSpaceInDcrModeIsTheDefault() {
        HostTensor x = ramp(B, C * R * R, H, W);
        checkDepthToSpace(x, run(depthToSpace(null), x), false);
        checkDepthToSpace(x, run(depthToSpace("DCR"), x), false);
    }

    @Test
    void depthToSpaceInCrdModeIsPixelShuffle() {
        HostTensor x = ramp(B, C * R * R, H, W);
        checkDepthToSpace(x, run(depthToSpace("CRD"), x), true);
        Graph dsl = Tracer.trace(new Resampling.PixelShuffle(R), B, C * R * R, H, W);
        checkDepthToSpace(x, run(dsl, x), true);
    }

    @Test
    void spaceToDepthUndoesDepthToSpaceInDcrMode() {
        HostTensor x = ramp(B, C, H * R, W * R);
        Graph g = OnnxLoweringTest.load(new OnnxTestModel().input("x", B, C, H * R, W * R)
                .node("SpaceToDepth", "x", "s", attr("blocksize", (long) R))
                .node("DepthToSpace", "s", "y", attr("blocksize", (long) R)).output("y"));
        assertArrayEquals(x.data(), run(g, x).data());
    }

    @Test
    void pixelUnshuffleUndoesPixelShuffle() {
        Module both = new Module() {
            final Resampling.PixelUnshuffle down = register("down", new Resampling.PixelUnshuffle(R));
            final Resampling.PixelShuffle up = register("up", new Resampling.PixelShuffle(R));
            @Override public Tensor forward(Tensor x) { return up.apply(down.apply(x)); }
        };
        HostTensor x = ramp(B, C, H * R, W * R);
        assertArrayEquals(x.data(), run(Tracer.trace(both, B, C, H * R, W * R), x).data());
        var e = assertThrows(ShapeException.class, () -> Tracer.trace(new Resampling.PixelUnshuffle(3), 1, 2, 4, 6));
        assertTrue(e.getMessage().contains("not multiples of 3"), e.getMessage());
    }

    @Test
    void badModesAndSizesAreNamed() {
        var mode = assertThrows(UnsupportedOpException.class, () -> depthToSpace("RDC"));
        assertTrue(mode.getMessage().contains("mode 'RDC'"), mode.getMessage());
        var channels = assertThrows(MalformedFileException.class, () -> OnnxLoweringTest.load(new OnnxTestModel().input("x", 1, 6, 2, 2)
                .node("DepthToSpace", "x", "y", attr("blocksize", 2L)).output("y")));
        assertTrue(channels.getMessage().contains("not a multiple of blocksize² = 4"), channels.getMessage());
        var rank = assertThrows(UnsupportedOpException.class, () -> OnnxLoweringTest.load(new OnnxTestModel().input("x", 8, 2, 2)
                .node("SpaceToDepth", "x", "y", attr("blocksize", 2L)).output("y")));
        assertTrue(rank.getMessage().contains("rank 4"), rank.getMessage());
    }
}
