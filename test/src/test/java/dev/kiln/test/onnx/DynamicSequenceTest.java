package dev.kiln.test.onnx;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.cli.KilnCli;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bert-tiny: exported with dynamic batch and sequence axes (int64 ids and attention mask), PyTorch's outputs kept at
 * [2, 8] (io-export/) and [3, 11] (io/). One compiled model runs both lengths and more, each specialised on first
 * use, from the ONNX model and from its artifact; the CLI runs the artifact at any length and inspect names the
 * symbolic dimensions.
 */
class DynamicSequenceTest {
    static final Path MODEL = OnnxFixtures.path("bert-tiny/opset17.onnx");

    private static Map<String, HostTensor> io(String dir, String... names) {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        for (String n : names) {
            Path p = OnnxFixtures.path("bert-tiny/" + dir + "/" + n + ".npy");
            try {
                m.put(n, Npy.readInput(Files.readAllBytes(p), p.toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return m;
    }

    private static void matches(CompiledModel m, String dir) {
        HostTensor want = io(dir, "y").get("y");
        HostTensor got = m.run(io(dir, "ids", "attention_mask")).get("y");
        double err = got.relativeL2Error(want);
        assertTrue(err < 1e-4, () -> dir + ": relative L2 error " + err + " against PyTorch");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void everyBatchAndLengthCompilesOnFirstUseAndMatchesPyTorch(String backend, @TempDir Path dir) {
        var target = Targets.require(backend);
        Path saved = dir.resolve("bert.kiln");
        try (CompiledModel m = Kiln.compileOnnx(MODEL, target, CompileOptions.defaults(), Map.of())) {
            assertEquals(Shape.of(1, 1), m.signature().inputs().getFirst().type().shape(), "compiled with every dynamic dimension at 1 first");
            assertEquals(List.of("batch", "sequence"), m.declaredDims().get("ids"));
            matches(m, "io-export");
            matches(m, "io");
            matches(m, "io-export");
            assertEquals(3, m.compilations(), "[1,1], [2,8] and [3,11]: one compilation each");
            m.save(saved);
        }
        try (CompiledModel loaded = Kiln.load(saved, target)) {
            assertTrue(loaded.acceptsOtherShapes(), "the artifact keeps batch and sequence symbolic");
            matches(loaded, "io");
            matches(loaded, "io-export");
            assertEquals(3, loaded.compilations());
        }
    }

    @Test
    void theCliRunsTheArtifactAtAnyLengthAndInspectNamesTheSymbolicDims(@TempDir Path dir) {
        Path kiln = dir.resolve("bert.kiln");
        assertEquals(0, cli("compile", MODEL.toString(), "-o", kiln.toString()).code, "compile");
        for (String io : List.of("io", "io-export")) {
            Path y = dir.resolve("y-" + io + ".npy");
            Result r = cli("run", kiln.toString(), "--input", "ids=" + OnnxFixtures.path("bert-tiny/" + io + "/ids.npy"),
                    "--input", "attention_mask=" + OnnxFixtures.path("bert-tiny/" + io + "/attention_mask.npy"), "--output", y.toString());
            assertEquals(0, r.code, r.err);
            HostTensor got = Npy.read(y), want = Npy.read(OnnxFixtures.path("bert-tiny/" + io + "/y.npy"));
            assertTrue(got.relativeL2Error(want) < 1e-4, io);
        }
        Result bad = cli("run", kiln.toString(), "--input", "ids=" + OnnxFixtures.path("bert-tiny/io/y.npy"),
                "--input", "attention_mask=" + OnnxFixtures.path("bert-tiny/io/attention_mask.npy"));
        assertEquals(1, bad.code);
        assertTrue(bad.err.contains("input 'ids'") && bad.err.contains("i64[1,1]") && bad.err.contains("numpy.int64"), bad.err);
        Result inspect = cli("inspect", kiln.toString());
        assertTrue(inspect.out.contains("signature (ids: i64[1,1], attention_mask: i64[1,1])"), inspect.out);
        assertTrue(inspect.out.contains("symbolic dimensions: ids [batch, sequence], attention_mask [batch, sequence]"), inspect.out);
    }

    private record Result(int code, String out, String err) {}

    private static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = KilnCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }
}
