package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Node;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every fixture model, exported by PyTorch at opset 13 and 17, imported and run by the reference
 * interpreter, against PyTorch's output. The tolerances are TargetModelsTest's: f32 rounding
 * compounded over a few layers is ~1e-7; a semantic slip (a gate order, a transposed weight,
 * the wrong padding) is 1e-2 or more.
 */
class OnnxImportMatchesPyTorchTest {
    static final double MAX_RELATIVE_L2 = 1e-5, RTOL = 1e-4, ATOL = 1e-5;

    static Stream<OnnxFixtures> fixtures() { return OnnxFixtures.all(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void referenceInterpreterReproducesPyTorch(OnnxFixtures f, TestReporter report) {
        Graph g = f.load();
        Map<String, HostTensor> out = ReferenceInterpreter.run(g, f.inputData());
        List<HostTensor> expected = f.expectedOutputs();
        assertEquals(expected.size(), out.size(), "outputs of " + f);
        List<HostTensor> got = new ArrayList<>(out.values());
        for (int i = 0; i < expected.size(); i++) {
            HostTensor y = got.get(i), want = expected.get(i);
            assertEquals(want.shape(), y.shape(), () -> f + " output shape");
            double err = y.relativeL2Error(want);
            report.publishEntry(f + " " + f.outputs().get(i), String.format("rel L2 %.2e, max abs %.2e, %d IR nodes", err, y.maxAbsError(want), g.nodes().size()));
            assertTrue(err <= MAX_RELATIVE_L2, () -> f + ": relative L2 error " + err);
            assertTrue(y.allClose(want, RTOL, ATOL), () -> f + ": not element-wise close (max abs " + y.maxAbsError(want) + ")");
        }
    }

    /** Artifacts hold text IR: ONNX names ("onnx::Conv_56", "input.1") must print and parse back to the same graph. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void importedGraphsSurviveTheTextIrRoundTrip(OnnxFixtures f) {
        Graph g = f.load();
        String text = IrPrinter.print(g);
        Graph parsed = IrParser.parse(text, f + ".kir").withWeights(g.weights());
        assertEquals(text, IrPrinter.print(parsed));
        assertEquals(ReferenceInterpreter.run(g, f.inputData()), ReferenceInterpreter.run(parsed, f.inputData()));
    }

    static long count(Graph g, Class<? extends Op> op) { return g.nodes().stream().filter(n -> op.isInstance(n.op())).count(); }

    static long countUnary(Graph g, Unary.Kind kind) {
        return g.nodes().stream().filter(n -> n.op() instanceof Unary u && u.kind() == kind).count();
    }

    @Test
    void everyGeluFormBecomesOneGeluOp() {
        for (int opset : new int[]{13, 17}) {
            Graph g = OnnxFixtures.of("gelu", opset).load();
            // nn.GELU, F.gelu, and the three hand-written orders
            assertEquals(5, countUnary(g, Unary.Kind.GELU), () -> "opset " + opset + ":\n" + g);
            assertEquals(0, g.nodes().stream().filter(n -> n.op().mnemonic().equals("binary")
                    && g.typeOf(n.inputs().get(1)).rank() == 0).count(), () -> "no scalar arithmetic of the GELU pattern is left:\n" + g);
        }
    }

    @Test
    void zeroPadsComputedByPyTorchsConstantSubgraphBecomeTheConvsPadding() {
        for (int opset : new int[]{13, 17}) {
            Graph g = OnnxFixtures.of("pad-conv", opset).load();
            // F.pad(x, (1,1,2,0)) → conv; F.pad(x, (0,1,0,1)) → conv with padding 1: [top, left, bottom, right]
            List<Ints> paddings = g.nodes().stream().map(Node::op).filter(Conv2d.class::isInstance).map(c -> ((Conv2d) c).padding()).toList();
            assertEquals(2, paddings.size(), () -> "opset " + opset + ":\n" + g);
            assertEquals(Ints.of(2, 1, 0, 1), paddings.get(0));
            assertEquals(Ints.of(1, 1, 2, 2), paddings.get(1));
            assertEquals(2, g.nodes().size(), () -> "nothing but the convs is left:\n" + g);
        }
    }

    @Test
    void linearLayersImportAsLinearWithTheirPyTorchWeightNames() {
        Graph g = OnnxFixtures.of("seq-attention", 17).load();
        // MatMul + Add of nn.Linear on a rank-3 input: one linear, weight stored [out, in] like nn.Linear's
        assertEquals(3, count(g, Linear.class));
        assertTrue(g.isConstant("query.weight") && g.isConstant("query.bias"), () -> g.constants().keySet().toString());
        assertEquals(2, count(g, MatMul.class), "Q·Kᵀ and P·V stay matmuls");
        assertEquals(1, count(g, Softmax.class));
    }

    @Test
    void batchNormIsKeptWhenPyTorchPreservesIt() {
        Graph folded = OnnxFixtures.of("mobilenet", 13).load(), kept = OnnxFixtures.of("mobilenet-bn", 13).load();
        assertEquals(0, count(folded, BatchNorm2d.class));
        assertEquals(6, count(kept, BatchNorm2d.class));
        assertEquals(6, count(kept, Conv2d.class));
    }

    @Test
    void shapeArithmeticFoldsAway() {
        Graph g = OnnxFixtures.of("ops-dynamic", 17).load();
        // Shape, Gather, Unsqueeze, Concat, Cast, Pow of the input size: nothing of it is left in the graph
        for (Node n : g.nodes()) assertNotEquals("shape", n.op().mnemonic());
        assertTrue(g.constants().values().stream().allMatch(t -> t.dtype() == dev.kiln.ir.DType.F32));
        assertEquals(dev.kiln.ir.Shape.of(3, 3, 8, 8), g.inputs().getFirst().type().shape());
    }

    @Test
    void multiLayerLstmImportsAsChainedOneLayerLstms() {
        Graph g = OnnxFixtures.of("lstm-state", 17).load();
        List<Lstm> lstms = g.nodes().stream().map(Node::op).filter(Lstm.class::isInstance).map(Lstm.class::cast).toList();
        assertEquals(2, lstms.size());
        for (Lstm l : lstms) {
            assertEquals(1, l.numLayers());
            assertTrue(l.hasInitialState(), "h0/c0 are model inputs");
        }
        Graph zero = OnnxFixtures.of("lstm", 13).load();
        assertTrue(zero.nodes().stream().map(Node::op).filter(Lstm.class::isInstance).noneMatch(l -> ((Lstm) l).hasInitialState()),
                "PyTorch's expanded zero state folds away");
    }

    @Test
    void nodesRecordTheOnnxNodeNameAsOrigin() {
        Graph g = OnnxFixtures.of("dwsep", 17).load();
        assertEquals(List.of("/depthwise/Conv", "/pointwise/Conv"), g.nodes().stream().map(Node::origin).toList());
        assertEquals("opset17", g.name());
        assertTrue(g.isConstant("depthwise.weight"));
    }
}
