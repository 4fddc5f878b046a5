package dev.kiln.runtime.cli;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.models.DepthwiseSeparableConv2d;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.frontend.weights.Safetensors;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import dev.kiln.ir.testing.SkipOrFail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompileCommandTest {
    @TempDir Path dir;

    private String out(String name) { return dir.resolve(name).toString(); }

    @Test
    void compilesABuiltInModelByNameWithItsDefaultShape() {
        Cli.Result r = Cli.run("compile", "cnn", "-o", out("cnn.kiln")).expect(0);
        assertTrue(r.out().contains("compiled cnn") && r.out().contains("wrote " + out("cnn.kiln")), r.out());
        Artifact a = Artifact.read(dir.resolve("cnn.kiln"));
        assertEquals("(x: f32[1,3,24,24]) -> (t9: f32[1,10])", a.signature().toString().replaceAll("t\\d+:", "t9:"));
        assertEquals("cpu", a.target());
    }

    @Test
    void tuneIsAnOpenClOptionOnly() {
        Cli.Result r = Cli.run("compile", "cnn", "-o", out("t.kiln"), "--tune").expect(2);
        assertTrue(r.err().contains("--tune: only the opencl backend has tunable kernels"), r.err());
    }

    @Test
    void inputShapeNamesAndSizesTheInput() {
        Cli.run("compile", "dwsep", "-o", out("d.kiln"), "--input-shape", "image=1x32x8x8").expect(0);
        assertEquals("image", Artifact.read(dir.resolve("d.kiln")).signature().inputs().getFirst().name());
        assertEquals(Shape.of(1, 32, 8, 8), Artifact.read(dir.resolve("d.kiln")).signature().inputs().getFirst().type().shape());
    }

    @Test
    void compilesADslClassOnTheClassPathByFullOrSimpleName() {
        Cli.run("compile", "dev.kiln.frontend.models.SmallCnn", "-o", out("a.kiln"), "--input-shape", "x=1x3x24x24").expect(0);
        Cli.run("compile", "SmallCnn", "-o", out("b.kiln"), "--input-shape", "x=2x3x24x24").expect(0);
        assertEquals(Shape.of(2, 3, 24, 24), Artifact.read(dir.resolve("b.kiln")).signature().inputs().getFirst().type().shape());
    }

    @Test
    void compilesAJavaSourceFileInProcess() throws IOException {
        Path src = dir.resolve("TinyNet.java");
        Files.writeString(src, """
                import dev.kiln.frontend.Module;
                import dev.kiln.frontend.Tensor;
                import dev.kiln.frontend.nn.Conv2d;

                public class TinyNet extends Module {
                    final Conv2d conv = register("conv", new Conv2d(3, 4, 3).padding(1));
                    @Override public Tensor forward(Tensor x) { return helper(conv.apply(x)); }
                    static Tensor helper(Tensor t) { return new Act().forward(t); }
                    static final class Act extends Module { @Override public Tensor forward(Tensor t) { return t.relu(); } }
                }
                """);
        Cli.Result r = Cli.run("compile", src.toString(), "-o", out("tiny.kiln"), "--input-shape", "x=1x3x6x6").expect(0);
        assertTrue(r.out().contains("compiled TinyNet from " + src), r.out());
        Artifact a = Artifact.read(dir.resolve("tiny.kiln"));
        assertEquals("TinyNet", a.graph().name());
        assertTrue(a.fusionReport().contains("conv2d + relu"), a.fusionReport());
    }

    @Test
    void compilesAnOnnxFileAndRunsItLikePyTorch() throws IOException {
        Path onnx = Cli.resource("onnx/dwsep/model.onnx");
        Cli.run("compile", onnx.toString(), "-o", out("onnx.kiln")).expect(0);
        Cli.run("run", out("onnx.kiln"), "--input", Cli.resource("onnx/dwsep/x.npy").toString(), "--output", out("y.npy")).expect(0);
        HostTensor expected = Npy.read(Cli.resource("onnx/dwsep/y.npy"));
        HostTensor y = Npy.read(dir.resolve("y.npy"));
        assertTrue(y.relativeL2Error(expected) < 1e-5, "rel. L2 error " + y.relativeL2Error(expected));
    }

    @Test
    void weightsFileReplacesTheInitialWeights() {
        Module trained = new DepthwiseSeparableConv2d(32, 64).initialize(99);
        Path weights = dir.resolve("w.safetensors");
        Safetensors.write(weights, trained.stateDict());
        Cli.run("compile", "dwsep", "-o", out("w.kiln"), "--input-shape", "x=1x32x6x6", "--weights", weights.toString()).expect(0);
        HostTensor x = HostTensor.normal(Shape.of(1, 32, 6, 6), 4);
        try (CompiledModel loaded = Kiln.load(dir.resolve("w.kiln"));
             CompiledModel direct = Kiln.compile(trained, Target.cpu(), Shape.of(1, 32, 6, 6))) {
            assertEquals(direct.run(x), loaded.run(x));
        }
    }

    @Test
    void dumpsIrAfterTheNamedPassesAndAll() {
        Cli.Result one = Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--input-shape", "x=1x32x6x6",
                "--dump-ir-after", "fuse-depthwise-pointwise").expect(0);
        assertTrue(one.out().contains("// IR after fuse-depthwise-pointwise\ngraph @DepthwiseSeparableConv2d"), one.out());
        assertEquals(1, one.out().split("// IR after").length - 1);
        Cli.Result all = Cli.run("compile", "dwsep", "-o", out("b.kiln"), "--input-shape", "x=1x32x6x6", "--dump-ir-after", "all").expect(0);
        assertEquals(dev.kiln.passes.Passes.DEFAULT.size(), all.out().split("// IR after").length - 1);
    }

    @Test
    void dumpsGeneratedCodeIntoADirectory() throws IOException {
        Path code = dir.resolve("code");
        Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--input-shape", "x=1x32x6x6", "--dump-code", code.toString()).expect(0);
        try (Stream<Path> files = Files.list(code)) {
            assertTrue(files.findAny().isPresent(), "no code dumped");
        }
    }

    @Test
    void compilesForOpenClWhereAPlatformExists() {
        SkipOrFail.requireBackend("opencl");
        Cli.run("compile", "dwsep", "-o", out("cl.kiln"), "--input-shape", "x=1x32x6x6", "--backend", "opencl").expect(0);
        assertEquals("opencl", Artifact.read(dir.resolve("cl.kiln")).target());
    }

    // ---- refusals ----

    @Test
    void refusesMissingOutputOption() {
        Cli.Result r = Cli.run("compile", "dwsep").expect(2);
        assertTrue(r.err().contains("kiln compile: usage error: Missing required option: '--output=OUT.kiln'"), r.err());
    }

    @Test
    void refusesAnUnknownBackend() {
        Cli.Result r = Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--backend", "tpu").expect(2);
        assertTrue(r.err().contains("unknown backend 'tpu'; this build has [cpu, opencl]") || r.err().contains("unknown backend 'tpu'"), r.err());
    }

    @Test
    void refusesOpenClWithoutAPlatformNamingWhatToInstall() {
        Cli.Result r = Cli.run(Cli.withoutOpenCl(), "compile", "dwsep", "-o", out("a.kiln"), "--backend", "opencl").expect(1);
        assertTrue(r.err().startsWith("kiln: error: OpenCL: no platform found"), r.err());
        assertTrue(Files.notExists(dir.resolve("a.kiln")));
    }

    @Test
    void refusesMalformedInputShapes() {
        for (String bad : new String[]{"1x3x8x8", "x=", "x=1x0x8", "x=1xax8"})
            assertTrue(Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--input-shape", bad).expect(2).err().contains("--input-shape"), bad);
    }

    @Test
    void refusesTwoInputShapesForADslModel() {
        Cli.Result r = Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--input-shape", "x=1x32x8x8", "--input-shape", "y=1x32x8x8").expect(2);
        assertTrue(r.err().contains("a DSL model has one input"), r.err());
    }

    @Test
    void refusesAModelWithoutAShapeToTraceOn() {
        Cli.Result r = Cli.run("compile", "SmallCnn", "-o", out("a.kiln")).expect(2);
        assertTrue(r.err().contains("needs its input shape: --input-shape x=DIMS"), r.err());
    }

    @Test
    void refusesAnUnknownModelName() {
        Cli.Result r = Cli.run("compile", "resnet9000", "-o", out("a.kiln")).expect(2);
        assertTrue(r.err().contains("no model 'resnet9000'") && r.err().contains("dwsep"), r.err());
    }

    @Test
    void refusesAClassThatIsNotADslModel() {
        Cli.Result r = Cli.run("compile", "java.lang.String", "-o", out("a.kiln"), "--input-shape", "x=1x2").expect(2);
        assertTrue(r.err().contains("class java.lang.String is not a DSL model"), r.err());
    }

    @Test
    void refusesAJavaFileThatDoesNotCompileNamingTheLine() throws IOException {
        Path src = dir.resolve("Broken.java");
        Files.writeString(src, "import dev.kiln.frontend.Module;\nimport dev.kiln.frontend.Tensor;\npublic class Broken extends Module {\n  int x = nope;\n  public Tensor forward(Tensor t) { return t; }\n}\n");
        Cli.Result r = Cli.run("compile", src.toString(), "-o", out("a.kiln"), "--input-shape", "x=1x2").expect(1);
        assertTrue(r.err().startsWith("kiln: error: " + src + ":4:"), r.err());
        assertEquals(1, r.errorLines().lines().count(), r.err());
    }

    @Test
    void printsAnUnsupportedOpErrorWholeWithOneLinePerOp() {
        Path onnx = Cli.resource("onnx/unsupported/model.onnx");
        Cli.Result r = Cli.run("compile", onnx.toString(), "-o", out("u.kiln")).expect(1);
        List<String> lines = r.errorLines().lines().toList();
        assertTrue(lines.getFirst().startsWith("kiln: error: " + onnx), r.err());
        assertTrue(lines.stream().skip(1).allMatch(l -> l.startsWith("  ")), "details indented under the summary:\n" + r.err());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Hardmax")), r.err());
        assertTrue(lines.stream().anyMatch(l -> l.contains("LpNormalization")), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose:\n" + r.err());
    }

    @Test
    void refusesAJavaFileWithoutAModel() throws IOException {
        Path src = dir.resolve("Plain.java");
        Files.writeString(src, "public class Plain {}\n");
        Cli.Result r = Cli.run("compile", src.toString(), "-o", out("a.kiln"), "--input-shape", "x=1x2").expect(1);
        assertTrue(r.err().contains("declares no concrete subclass of dev.kiln.frontend.Module"), r.err());
    }

    @Test
    void refusesMissingModelAndWeightsFiles() {
        assertTrue(Cli.run("compile", out("Nope.java"), "-o", out("a.kiln"), "--input-shape", "x=1x2").expect(1).err().contains("no such file"));
        assertTrue(Cli.run("compile", out("nope.onnx"), "-o", out("a.kiln")).expect(1).err().contains("no such file"));
        assertTrue(Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--weights", out("none.safetensors")).expect(1).err().contains("no such file"));
    }

    @Test
    void refusesWeightsThatDoNotFitTheModelNamingTheTensor() {
        Path weights = dir.resolve("w.safetensors");
        Safetensors.write(weights, new DepthwiseSeparableConv2d(16, 64).initialize(1).stateDict());
        Cli.Result r = Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--weights", weights.toString()).expect(1);
        assertTrue(r.err().contains("'depthwise.weight' has shape [16,1,3,3] but the model expects [32,1,3,3]"), r.err());
    }

    @Test
    void refusesAnUnknownPassToDump() {
        Cli.Result r = Cli.run("compile", "dwsep", "-o", out("a.kiln"), "--dump-ir-after", "fuse-everything").expect(2);
        assertTrue(r.err().contains("unknown pass 'fuse-everything'"), r.err());
    }
}
