package dev.kiln.frontend.onnx;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxTestModel.attr;
import static dev.kiln.frontend.onnx.OnnxTestModel.in;
import static org.junit.jupiter.api.Assertions.*;

/** Each way an ONNX file or the shapes given with it can be wrong, and the error that says so. */
class OnnxBadInputTest {
    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    static byte[] bytes(String fixture) {
        try {
            return Files.readAllBytes(OnnxFixtures.path(fixture));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- ops ----

    @Test
    void everyUnsupportedOpIsNamedAtOnceWithItsNodeAndOpset() {
        // an op Kiln has no importer for and an integer division (which truncates); the cast back to float is downstream
        OnnxTestModel m = new OnnxTestModel().input("x", 2, 8).typedInput("ids", OnnxFields.INT64, 2, 8)
                .node("Celu", "x", "a")
                .node("Div", in("ids", "ids"), in("q")).node("Cast", "q", "qf", attr("to", (long) OnnxFields.FLOAT))
                .node("Add", in("a", "qf"), in("y")).output("y");
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> OnnxImporter.load(m.build(), "unsupported.onnx", Map.of()));
        assertMentions(e, "unsupported.onnx", "2 nodes", "Celu (node 'celu_0', opset 17)",
                "Div (node 'div_1', opset 17)", "a Div of integer tensors");
        String failures = e.getMessage().split("could not be checked")[0];
        assertFalse(failures.contains("cast_2"), "the cast back to float is downstream of the failure, not a failure of its own");
    }

    @Test
    void theFormerlyUnsupportedFixtureImportsNow() {
        // LayerNormalization, CumSum, a lone Erf and a Cast to int64 (x.long().float(): a truncation) all import now
        var g = OnnxImporter.load(OnnxFixtures.path("bad/unsupported.onnx"));
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof dev.kiln.ir.op.CumSum), g.toString());
        assertTrue(g.nodes().stream().anyMatch(n -> n.op() instanceof dev.kiln.ir.op.Unary u && u.kind() == dev.kiln.ir.op.Unary.Kind.TRUNC), g.toString());
    }

    @Test
    void unsupportedNodesAfterAnotherOnTheSamePathAreReportedTooInOneGo() {
        OnnxTestModel m = new OnnxTestModel().input("x", 2, 8)
                .ints("pads", new long[]{4}, 0, 1, 0, 1).ints("axis", new long[]{}, 1)
                // a path with three refusals in a row, then an op Kiln has
                .node("Celu", "x", "a")
                .node("Hardmax", "a", "b")
                .node("Pad", in("b", "pads"), in("c"), attr("mode", "wrap"))
                .node("Relu", "c", "d")
                // a parallel path: an op Kiln has, a refusal, an op Kiln has
                .node("Sigmoid", "x", "e")
                .node("Shrink", "e", "f")
                .node("Relu", "f", "g")
                // a path Kiln imports, and where the paths meet
                .node("Relu", "x", "h")
                .node("Concat", in("d", "g", "h"), in("y"), attr("axis", 1L))
                .output("y");
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> OnnxImporter.load(m.build(), "model.onnx", Map.of()));
        String[] lines = e.getMessage().split("\n");
        assertEquals("model.onnx: 4 nodes Kiln cannot import:", lines[0], e::getMessage);
        assertTrue(lines[1].startsWith("  Celu (node 'celu_0', opset 17): "), e::getMessage);
        assertTrue(lines[2].startsWith("  Hardmax (node 'hardmax_1', opset 17): "), e::getMessage);
        assertTrue(lines[3].startsWith("  Pad (node 'pad_2', opset 17): ") && lines[3].contains("mode 'wrap'"), e::getMessage);
        assertTrue(lines[4].startsWith("  Shrink (node 'shrink_5', opset 17): "), e::getMessage);
        // what reads a refused node's result cannot be checked without it, and is said so, apart from the failures
        assertTrue(lines[5].contains("3 nodes") && lines[5].contains("could not be checked"), e::getMessage);
        assertEquals(List.of("  Relu (2 nodes: 'relu_3', 'relu_6', opset 17)", "  Concat (node 'concat_8', opset 17)"),
                List.of(lines).subList(6, lines.length), e::getMessage);
        assertFalse(e.getMessage().contains("sigmoid_4") || e.getMessage().contains("relu_7"), "imported nodes are not mentioned");
    }

    /** Once refused (Kiln had no pad op), the pads that cannot become the conv's padding now import as a Pad op before it. */
    @Test
    void aReflectPadBeforeAConvImportsAsAPadOp() {
        checkPadThenConv("bad/pad-reflect.onnx", new dev.kiln.ir.op.Pad(dev.kiln.ir.op.Pad.Mode.REFLECT, new int[]{0, 0, 1, 1, 0, 0, 1, 1}, 0f));
    }

    @Test
    void aNonZeroPadBeforeAConvImportsAsAPadOpWithItsValue() {
        checkPadThenConv("bad/pad-nonzero.onnx", new dev.kiln.ir.op.Pad(dev.kiln.ir.op.Pad.Mode.CONSTANT, new int[]{0, 0, 1, 1, 0, 0, 1, 1}, 0.5f));
    }

    private static void checkPadThenConv(String file, dev.kiln.ir.op.Pad want) {
        dev.kiln.ir.Graph g = OnnxImporter.load(OnnxFixtures.path(file));
        assertEquals(List.of("pad", "conv2d"), g.nodes().stream().map(n -> n.op().mnemonic()).toList(), g::toString);
        assertEquals(want, g.nodes().getFirst().op());
        var x = dev.kiln.ir.HostTensor.normal(Shape.of(1, 2, 5, 5), 3);
        var y = dev.kiln.ir.ReferenceInterpreter.run(g, Map.of(g.inputs().getFirst().name(), x)).values().iterator().next();
        assertEquals(Shape.of(1, 3, 5, 5), y.shape());
    }

    // ---- files ----

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 10, 100, 1000, 3000})
    void aTruncatedFileNamesTheFileAndTheByteOffset(int keep) {
        byte[] whole = bytes("dwsep/opset13.onnx");
        byte[] cut = Arrays.copyOf(whole, Math.min(keep, whole.length - 1));
        var e = assertThrowsExactly(MalformedFileException.class, () -> OnnxImporter.load(cut, "dwsep.onnx", Map.of()));
        assertMentions(e, "dwsep.onnx", "at byte ");
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("truncated one"), e::getMessage);
    }

    @Test
    void anNpyFileIsNotAnOnnxModel() {
        byte[] npy = bytes("dwsep/io/x.npy");
        var e = assertThrowsExactly(MalformedFileException.class, () -> OnnxImporter.load(npy, "x.npy", Map.of()));
        assertMentions(e, "x.npy", "at byte 0", "not a protobuf");
    }

    @Test
    void textIsNotAnOnnxModel() {
        byte[] text = "model=dwsep\ninputs=x\n".getBytes(StandardCharsets.UTF_8);
        var e = assertThrowsExactly(MalformedFileException.class, () -> OnnxImporter.load(text, "case.txt", Map.of()));
        assertMentions(e, "case.txt", "at byte");
    }

    @Test
    void anEmptyFileIsRefused() {
        var e = assertThrowsExactly(MalformedFileException.class, () -> OnnxImporter.load(new byte[0], "empty.onnx", Map.of()));
        assertMentions(e, "empty.onnx", "empty");
    }

    @Test
    void aMissingFileIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) {
        var e = assertThrows(KilnException.class, () -> OnnxImporter.load(dir.resolve("nope.onnx")));
        assertMentions(e, "nope.onnx", "no such file");
    }

    @Test
    void weightsInAnExternalFileAreRefusedWithWhatToDo() {
        var e = assertThrows(KilnException.class, () -> OnnxImporter.load(OnnxFixtures.path("bad/external.onnx")));
        assertMentions(e, "external.onnx", "external file 'external.weights'", "save_as_external_data=False");
    }

    // ---- opsets ----

    @Test
    void anOpsetOutsideThirteenToSeventeenIsRefused() {
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> OnnxImporter.load(OnnxFixtures.path("bad/opset11.onnx")));
        assertMentions(e, "opset11.onnx", "opset 11", "13 to 17", "opset_version=13");
    }

    // ---- shapes ----

    @Test
    void aDynamicInputWithoutAGivenShapeSaysToPassOne() {
        var e = assertThrows(KilnException.class, () -> OnnxImporter.load(OnnxFixtures.of("ops-dynamic", 17).file()));
        assertMentions(e, "static shapes", "input 'x'", "'batch' (axis 0)", "--input-shape x=1,3,8,8");
    }

    @Test
    void aGivenShapeThatContradictsAStaticDimensionIsAShapeError() {
        var e = assertThrowsExactly(ShapeException.class,
                () -> OnnxImporter.load(OnnxFixtures.of("dwsep", 17).file(), Map.of("x", Shape.of(1, 8, 12, 12))));
        assertMentions(e, "[1,8,12,12]", "input 'x'", "axis 2 is 12 where the model fixes 10");
    }

    @Test
    void aGivenShapeOfTheWrongRankIsAShapeError() {
        var e = assertThrowsExactly(ShapeException.class,
                () -> OnnxImporter.load(OnnxFixtures.of("ops-dynamic", 13).file(), Map.of("x", Shape.of(3, 3, 64))));
        assertMentions(e, "rank 3 where the model has rank 4");
    }

    @Test
    void aShapeForAnInputTheModelDoesNotHaveIsRefused() {
        var e = assertThrows(KilnException.class,
                () -> OnnxImporter.load(OnnxFixtures.of("dwsep", 13).file(), Map.of("input", Shape.of(1, 8, 10, 10))));
        assertMentions(e, "'input'", "[x]");
    }

    @Test
    void aGivenShapeMatchingTheStaticOneIsAccepted() {
        var g = OnnxImporter.load(OnnxFixtures.of("dwsep", 13).file(), Map.of("x", Shape.of(1, 8, 10, 10)));
        assertEquals(Shape.of(1, 16, 10, 10), g.typeOf(g.outputs().getFirst()).shape());
    }

    @Test
    void aDynamicBatchTakesTheGivenSize() {
        var g = OnnxImporter.load(OnnxFixtures.of("ops-dynamic", 13).file(), Map.of("x", Shape.of(5, 3, 8, 8)));
        assertEquals(Shape.of(5, 3, 3), g.typeOf(g.outputs().getFirst()).shape());
    }
}
