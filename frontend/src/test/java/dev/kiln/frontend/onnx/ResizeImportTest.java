package dev.kiln.frontend.onnx;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Resampling;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Resize;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxTestModel.attr;
import static dev.kiln.frontend.onnx.OnnxTestModel.in;
import static org.junit.jupiter.api.Assertions.*;

/** ONNX Resize's attributes and inputs as the Resize op, its reference on small rows, the refusals, and nn.Upsample. */
class ResizeImportTest {
    static HostTensor run(Graph g, HostTensor x) {
        return dev.kiln.ir.ReferenceInterpreter.run(g, Map.of(g.inputs().getFirst().name(), x)).values().iterator().next();
    }

    static OnnxTestModel byScales(float... scales) {
        return new OnnxTestModel().input("x", 1, 1, 2, 3).floats("s", new long[]{scales.length}, scales);
    }

    static Resize op(Graph g) { return (Resize) g.nodes().getFirst().op(); }

    @Test
    void scalesGiveFlooredSizesAndKeepTheScale() {
        Graph g = OnnxLoweringTest.load(byScales(1, 1, 1.5f, 2).node("Resize", in("x", "", "s"), in("y"),
                attr("mode", "linear"), attr("coordinate_transformation_mode", "pytorch_half_pixel")).output("y"));
        assertEquals(new Resize(Resize.Mode.LINEAR, Resize.Coord.PYTORCH_HALF_PIXEL, Resize.Nearest.ROUND_PREFER_FLOOR, Ints.of(3, 6), 1.5f, 2f), op(g));
    }

    @Test
    void sizesAndTheDefaultsHalfPixelRoundPreferFloor() {
        Graph g = OnnxLoweringTest.load(new OnnxTestModel().input("x", 1, 1, 4).floats("roi", new long[]{0}).floats("sc", new long[]{0})
                .ints("sz", new long[]{3}, 1, 1, 8).node("Resize", in("x", "roi", "sc", "sz"), in("y")).output("y"));
        assertEquals(new Resize(Resize.Mode.NEAREST, Resize.Coord.HALF_PIXEL, Resize.Nearest.ROUND_PREFER_FLOOR, 8), op(g));
        // half pixel at scale 2: (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25, ... round to 0, 0, 1, 1, ...
        assertArrayEquals(new float[]{1, 1, 2, 2, 3, 3, 4, 4}, run(g, HostTensor.of(new float[]{1, 2, 3, 4}, 1, 1, 4)).data());
        // asymmetric at scale 2: 0, 0.5, 1, 1.5, 2, 2.5 — the ties go down or up as the mode says, clamped to the last index
        HostTensor x = HostTensor.of(new float[]{1, 2, 3}, 1, 1, 3);
        for (var m : Map.of(Resize.Nearest.ROUND_PREFER_FLOOR, new float[]{1, 1, 2, 2, 3, 3}, Resize.Nearest.ROUND_PREFER_CEIL, new float[]{1, 2, 2, 3, 3, 3},
                Resize.Nearest.FLOOR, new float[]{1, 1, 2, 2, 3, 3}, Resize.Nearest.CEIL, new float[]{1, 2, 2, 3, 3, 3}).entrySet())
            assertArrayEquals(m.getValue(), new Resize(Resize.Mode.NEAREST, Resize.Coord.ASYMMETRIC, m.getKey(), 6).evaluate(java.util.List.of(x)).data(),
                    m.getKey().name());
    }

    @Test
    void linearBlendsAndClampsAtTheBorders() {
        Graph g = OnnxLoweringTest.load(new OnnxTestModel().input("x", 1, 1, 3).ints("sz", new long[]{3}, 1, 1, 6)
                .node("Resize", in("x", "", "", "sz"), in("y"), attr("mode", "linear")).output("y"));
        // half pixel: −0.25 → 1 (clamped), 0.25 → 1.25, 0.75 → 1.75, 1.25 → 2.25, 1.75 → 2.75, 2.25 → 3 (clamped)
        assertArrayEquals(new float[]{1, 1.25f, 1.75f, 2.25f, 2.75f, 3}, run(g, HostTensor.of(new float[]{1, 2, 3}, 1, 1, 3)).data(), 1e-6f);
        Graph corners = OnnxLoweringTest.load(new OnnxTestModel().input("x", 1, 1, 3).ints("sz", new long[]{3}, 1, 1, 5)
                .node("Resize", in("x", "", "", "sz"), in("y"), attr("mode", "linear"), attr("coordinate_transformation_mode", "align_corners")).output("y"));
        assertArrayEquals(new float[]{1, 1.5f, 2, 2.5f, 3}, run(corners, HostTensor.of(new float[]{1, 2, 3}, 1, 1, 3)).data(), 1e-6f);
    }

    @Test
    void refusalsNameTheAttribute() {
        assertRefused(UnsupportedOpException.class, "mode 'cubic'", attr("mode", "cubic"));
        assertRefused(UnsupportedOpException.class, "exclude_outside", attr("exclude_outside", 1L));
        assertRefused(UnsupportedOpException.class, "antialias", attr("antialias", 1L));
        assertRefused(UnsupportedOpException.class, "'tf_crop_and_resize'", attr("coordinate_transformation_mode", "tf_crop_and_resize"));
        var channels = assertThrows(UnsupportedOpException.class, () -> OnnxLoweringTest.load(byScales(1, 2, 2, 2)
                .node("Resize", in("x", "", "s"), in("y")).output("y")));
        assertTrue(channels.getMessage().contains("scales on N and C must be 1"), channels.getMessage());
        var both = assertThrows(MalformedFileException.class, () -> OnnxLoweringTest.load(byScales(1, 1, 2, 2).ints("z", new long[]{4}, 1, 1, 4, 6)
                .node("Resize", in("x", "", "s", "z"), in("y")).output("y")));
        assertTrue(both.getMessage().contains("both scales and sizes"), both.getMessage());
        var rank = assertThrows(UnsupportedOpException.class, () -> OnnxLoweringTest.load(new OnnxTestModel().input("x", 4, 4)
                .floats("s", new long[]{2}, 1, 2).node("Resize", in("x", "", "s"), in("y")).output("y")));
        assertTrue(rank.getMessage().contains("rank 2"), rank.getMessage());
    }

    private static void assertRefused(Class<? extends RuntimeException> type, String part, OnnxTestModel.Proto attr) {
        var e = assertThrows(type, () -> OnnxLoweringTest.load(byScales(1, 1, 2, 2).node("Resize", in("x", "", "s"), in("y"), attr).output("y")));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void upsampleMapsPyTorchsModes() {
        assertEquals(new Resize(Resize.Mode.NEAREST, Resize.Coord.ASYMMETRIC, Resize.Nearest.FLOOR, Ints.of(4, 6), 2f, 2f),
                op(Tracer.trace(new Resampling.Upsample(2, "nearest"), 1, 1, 2, 3)));
        assertEquals(new Resize(Resize.Mode.LINEAR, Resize.Coord.PYTORCH_HALF_PIXEL, Resize.Nearest.FLOOR, Ints.of(3, 4), 1.5f, 1.5f),
                op(Tracer.trace(new Resampling.Upsample(1.5, "bilinear"), 1, 1, 2, 3)));
        assertEquals(new Resize(Resize.Mode.LINEAR, Resize.Coord.ALIGN_CORNERS, Resize.Nearest.FLOOR, Ints.of(9), 0f, 3f),
                op(Tracer.trace(new Resampling.Upsample(3, "linear", true), 1, 1, 3)));
        assertThrows(ShapeException.class, () -> Tracer.trace(new Resampling.Upsample(2, "bilinear"), 1, 1, 3));
        assertThrows(UnsupportedOpException.class, () -> new Resampling.Upsample(2, "bicubic"));
    }
}
