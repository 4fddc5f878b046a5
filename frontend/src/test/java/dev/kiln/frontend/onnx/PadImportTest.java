package dev.kiln.frontend.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Padding;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Pad;
import dev.kiln.ir.op.Slice;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxTestModel.attr;
import static dev.kiln.frontend.onnx.OnnxTestModel.in;
import static org.junit.jupiter.api.Assertions.*;

/** ONNX Pad in every mode (and crops) as the Pad op, its reference semantics on small rows, and the DSL's pad layers. */
class PadImportTest {
    static HostTensor run(Graph g, HostTensor x) {
        return dev.kiln.ir.ReferenceInterpreter.run(g, Map.of(g.inputs().getFirst().name(), x)).values().iterator().next();
    }

    static Graph pad1d(String mode, float value, long... pads) {
        OnnxTestModel m = new OnnxTestModel().input("x", 1, 4).ints("p", new long[]{pads.length}, pads);
        if (value != 0) m = m.floats("v", new long[]{}, value).node("Pad", in("x", "p", "v"), in("y"), attr("mode", mode));
        else m = m.node("Pad", in("x", "p"), in("y"), attr("mode", mode));
        return OnnxLoweringTest.load(m.output("y"));
    }

    static final HostTensor ROW = HostTensor.of(new float[]{1, 2, 3, 4}, 1, 4);

    @Test
    void reflectMirrorsWithoutRepeatingTheEdge() {
        assertArrayEquals(new float[]{4, 3, 2, 1, 2, 3, 4, 3, 2}, run(pad1d("reflect", 0, 0, 3, 0, 2), ROW).data());
    }

    @Test
    void edgeRepeatsTheEdgeAndConstantFillsTheValue() {
        assertArrayEquals(new float[]{1, 1, 1, 2, 3, 4, 4}, run(pad1d("edge", 0, 0, 2, 0, 1), ROW).data());
        assertArrayEquals(new float[]{1, 2, 3, 4, 0.5f, 0.5f}, run(pad1d("constant", 0.5f, 0, 0, 0, 2), ROW).data());
        Graph both = pad1d("constant", 0, 1, 1, 0, 0);
        assertEquals(new Pad(Pad.Mode.CONSTANT, new int[]{1, 1, 0, 0}, 0f), both.nodes().getFirst().op());
        assertArrayEquals(new float[]{0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, run(both, ROW).data());
    }

    @Test
    void negativePadsCropWithASlice() {
        Graph g = pad1d("constant", 0, 0, -1, 0, 2);
        assertEquals(List.of("slice", "pad"), g.nodes().stream().map(n -> n.op().mnemonic()).toList());
        assertArrayEquals(new float[]{2, 3, 4, 0, 0}, run(g, ROW).data());
        Graph crop = pad1d("edge", 0, 0, -1, 0, -2);
        assertInstanceOf(Slice.class, crop.nodes().getFirst().op());
        assertArrayEquals(new float[]{2}, run(crop, ROW).data());
        assertEquals(0, pad1d("reflect", 0, 0, 0, 0, 0).nodes().size(), "zero pads change nothing");
    }

    @Test
    void refusalsNameWhatIsWrong() {
        var tooWide = assertThrows(ShapeException.class, () -> pad1d("reflect", 0, 0, 4, 0, 0));
        assertTrue(tooWide.getMessage().contains("must each be smaller than the axis' size 4"), tooWide.getMessage());
        var wrap = assertThrows(UnsupportedOpException.class, () -> pad1d("wrap", 0, 0, 1, 0, 1));
        assertTrue(wrap.getMessage().contains("pad mode 'wrap'"), wrap.getMessage());
        var mixed = assertThrows(UnsupportedOpException.class, () -> pad1d("reflect", 0, 0, -1, 0, 2));
        assertTrue(mixed.getMessage().contains("crop one side of axis 1"), mixed.getMessage());
        var count = assertThrows(MalformedFileException.class, () -> pad1d("constant", 0, 1, 1));
        assertTrue(count.getMessage().contains("need 4 values"), count.getMessage());
    }

    @Test
    void dslPadLayersTakePyTorchsLeftRightTopBottom() {
        HostTensor x = HostTensor.of(new float[]{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3);
        Graph zero = Tracer.trace(new Padding.ZeroPad2d(1, 0, 2, 0), 1, 1, 2, 3);
        assertEquals(new Pad(Pad.Mode.CONSTANT, new int[]{0, 0, 2, 1, 0, 0, 0, 0}, 0f), zero.nodes().getFirst().op());
        assertEquals(dev.kiln.ir.Shape.of(1, 1, 4, 4), run(zero, x).shape());
        HostTensor reflect = run(Tracer.trace(new Padding.ReflectionPad2d(1), 1, 1, 2, 3), x);
        assertArrayEquals(new float[]{5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2}, reflect.data());
        HostTensor edge = run(Tracer.trace(new Padding.ReplicationPad2d(0, 1, 0, 0), 1, 1, 2, 3), x);
        assertArrayEquals(new float[]{1, 2, 3, 3, 4, 5, 6, 6}, edge.data());
        HostTensor constant = run(Tracer.trace(new Padding.ConstantPad2d(new int[]{0, 0, 1, 0}, -1), 1, 1, 2, 3), x);
        assertArrayEquals(new float[]{-1, -1, -1, 1, 2, 3, 4, 5, 6}, constant.data());
        assertThrows(ShapeException.class, () -> Tracer.trace(new Padding.ReflectionPad2d(2), 1, 1, 2, 3));
    }
}
