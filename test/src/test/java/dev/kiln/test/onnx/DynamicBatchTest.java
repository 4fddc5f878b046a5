package dev.kiln.test.onnx;

import dev.kiln.frontend.onnx.OnnxImporter;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An ONNX model exported with a dynamic batch axis compiles without any input shape, at batch 1, and every other
 * batch size compiles on first use — in the process that imported it and from its saved artifact.
 */
class DynamicBatchTest {
    /** ops-dynamic: exported at batch 2 with dim_param "batch"; PyTorch's output kept for batch 3. */
    static final Path MODEL = OnnxFixtures.path("ops-dynamic/opset17.onnx");

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void everyBatchSizeCompilesOnFirstUseAndMatches(String backend, @TempDir Path dir) {
        var target = Targets.require(backend);
        OnnxFixtures f = OnnxFixtures.of("ops-dynamic", 17);
        Path saved = dir.resolve("ops-dynamic.kiln");
        try (CompiledModel m = Kiln.compileOnnx(MODEL, target, CompileOptions.defaults(), Map.of())) {
            assertEquals(Shape.of(1, 3, 8, 8), m.signature().inputs().getFirst().type().shape(), "compiled at batch 1 first");
            assertTrue(m.acceptsOtherShapes());
            HostTensor y3 = m.run(f.inputData().get("x"));
            assertTrue(y3.relativeL2Error(f.expectedOutputs().getFirst()) < 1e-4, "batch 3 against PyTorch");
            for (int batch : new int[]{1, 8}) checkAgainstReference(m, batch);
            assertEquals(3, m.compilations(), "batches 1, 3 and 8: one compilation each");
            m.save(saved);
        }
        try (CompiledModel loaded = Kiln.load(saved, target)) {
            assertTrue(loaded.acceptsOtherShapes(), "the artifact keeps the batch axis dynamic");
            checkAgainstReference(loaded, 8);
            checkAgainstReference(loaded, 1);
            assertEquals(2, loaded.compilations(), "batch 1 from the artifact's graph, batch 8 from its ONNX model");
        }
    }

    private static void checkAgainstReference(CompiledModel m, int batch) {
        Shape s = Shape.of(batch, 3, 8, 8);
        HostTensor x = HostTensor.normal(s, batch);
        HostTensor want = ReferenceInterpreter.run(OnnxImporter.load(MODEL, Map.of("x", s)), x);
        HostTensor got = m.run(x);
        assertEquals(want.shape(), got.shape());
        assertTrue(got.relativeL2Error(want) < 1e-5, () -> "batch " + batch + ": relative L2 error " + got.relativeL2Error(want));
    }

    @Test
    void aStaticModelKeepsItsShapesAndAnotherBatchIsRefused() {
        try (CompiledModel m = Kiln.compileOnnx(OnnxFixtures.path("audio-1d/opset17.onnx"), Targets.require("cpu"), CompileOptions.defaults(), Map.of())) {
            assertFalse(m.acceptsOtherShapes());
            var e = assertThrows(KilnException.class, () -> m.run(HostTensor.normal(Shape.of(4, 2, 64), 1)));
            assertTrue(e.getMessage().contains("[4, 2, 64]") || e.getMessage().contains("4x2x64") || e.getMessage().contains("expects"), e.getMessage());
        }
    }

    @Test
    void aTamperedOnnxSectionIsRefused(@TempDir Path dir) throws Exception {
        Path saved = dir.resolve("m.kiln");
        try (CompiledModel m = Kiln.compileOnnx(MODEL, Targets.require("cpu"), CompileOptions.defaults(), Map.of())) {
            m.save(saved);
        }
        byte[] b = Files.readAllBytes(saved);
        b[b.length - 40] ^= 1;                       // inside the last section, the ONNX model
        Files.write(saved, b);
        var e = assertThrows(KilnException.class, () -> Kiln.load(saved));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }
}
