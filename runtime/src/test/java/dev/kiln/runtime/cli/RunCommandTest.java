package dev.kiln.runtime.cli;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import org.junit.jupiter.api.BeforeEach;
import dev.kiln.ir.testing.SkipOrFail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandTest {
    static final Shape X = Shape.of(1, 32, 6, 6);

    @TempDir Path dir;
    Path model, x;

    @BeforeEach
    void compileDwsep() {
        model = dir.resolve("dwsep.kiln");
        Cli.run("compile", "dwsep", "-o", model.toString(), "--input-shape", "x=1x32x6x6").expect(0);
        x = dir.resolve("x.npy");
        Npy.write(x, HostTensor.normal(X, 5));
    }

    private String p(String name) { return dir.resolve(name).toString(); }

    /** Two inputs a, b of f32[2,3]; outputs sum = a+b and prod = a*b. */
    private Path pairModel() {
        GraphBuilder b = new GraphBuilder("pair");
        b.input("a", TensorType.f32(2, 3));
        b.input("b", TensorType.f32(2, 3));
        b.output(b.add("sum", new Binary(Binary.Kind.ADD), List.of("a", "b"), ""));
        b.output(b.add("prod", new Binary(Binary.Kind.MUL), List.of("a", "b"), ""));
        Path file = dir.resolve("pair.kiln");
        try (CompiledModel m = Kiln.compile(b.build(), Target.cpu())) {
            m.save(file);
        }
        Npy.write(dir.resolve("a.npy"), HostTensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        Npy.write(dir.resolve("b.npy"), HostTensor.of(new float[]{10, 20, 30, 40, 50, 60}, 2, 3));
        return file;
    }

    @Test
    void runsOnOneUnnamedInputAndWritesTheOutputAsNpy() {
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString(), "--output", p("y.npy")).expect(0);
        assertTrue(r.out().contains("wrote output '") && r.out().contains("f32[1,64,6,6] to " + p("y.npy")), r.out());
        assertTrue(r.out().contains("by the reference interpreter while the cpu kernels were generated"), r.out());
        try (CompiledModel m = Kiln.load(model)) {
            // one call is answered by the interpreter (double accumulation): equal to the kernels' within rounding
            HostTensor want = m.run(Npy.read(x)), got = Npy.read(dir.resolve("y.npy"));
            assertTrue(got.relativeL2Error(want) < 1e-5, () -> "relative L2 error " + got.relativeL2Error(want));
        }
    }

    @Test
    void runsTheColdKernelsWhenAskedTo() {
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString(), "--output", p("y.npy"), "--kernels").expect(0);
        assertTrue(r.out().contains("ran on cpu in"), r.out());
        try (CompiledModel m = Kiln.load(model)) {
            assertEquals(m.run(Npy.read(x)), Npy.read(dir.resolve("y.npy")));
        }
    }

    @Test
    void summarisesOutputsWithoutOutputOption() {
        Cli.Result r = Cli.run("run", model.toString(), "--input", "x=" + x).expect(0);
        assertTrue(r.out().contains("f32[1,64,6,6]: [") && r.out().contains("(2304 values)]"), r.out());
    }

    @Test
    void takesNamedInputsAndWritesNamedOutputs() {
        Path pair = pairModel();
        Cli.run("run", pair.toString(), "--input", "a=" + p("a.npy"), "--input", "b=" + p("b.npy"),
                "--output", "prod=" + p("prod.npy"), "--output", "sum=" + p("sum.npy")).expect(0);
        assertEquals(HostTensor.of(new float[]{11, 22, 33, 44, 55, 66}, 2, 3), Npy.read(dir.resolve("sum.npy")));
        assertEquals(HostTensor.of(new float[]{10, 40, 90, 160, 250, 360}, 2, 3), Npy.read(dir.resolve("prod.npy")));
        Cli.run("run", pair.toString(), "--input", "a=" + p("a.npy"), "--input", "b=" + p("b.npy"), "--output", p("first.npy")).expect(0);
        assertEquals(Npy.read(dir.resolve("sum.npy")), Npy.read(dir.resolve("first.npy")), "an unnamed --output is the first output");
    }

    @Test
    void runsAnOpenClArtifact() {
        SkipOrFail.requireBackend("opencl");
        Cli.run("compile", "dwsep", "-o", p("cl.kiln"), "--input-shape", "x=1x32x6x6", "--backend", "opencl").expect(0);
        Cli.run("run", p("cl.kiln"), "--input", x.toString(), "--backend", "opencl", "--output", p("y.npy"), "--kernels").expect(0);
        try (CompiledModel m = Kiln.load(dir.resolve("cl.kiln"))) {
            assertEquals(m.run(Npy.read(x)), Npy.read(dir.resolve("y.npy")));
        }
    }

    // ---- refusals: inputs ----

    @Test
    void refusesAWrongInputShapeNamingInputExpectedAndActual() {
        Npy.write(x, HostTensor.normal(Shape.of(1, 32, 5, 5), 5));
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertEquals("kiln: error: input 'x' (" + x + ") has shape [1,32,5,5] but the model expects f32[1,32,6,6]\n", r.errorLines());
    }

    @Test
    void refusesAWrongInputDtypeNamingInputExpectedAndActual() throws IOException {
        Files.write(x, npyF64(X));
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().startsWith("kiln: error: input 'x' (" + x + ") holds f64[1,32,6,6] but the model expects f32[1,32,6,6]"), r.err());
    }

    @Test
    void refusesAMalformedNpyNamingTheInputAndFile() throws IOException {
        Files.writeString(x, "not numpy at all");
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().startsWith("kiln: error: input 'x': " + x + ": bad magic at byte 0"), r.err());
        Files.write(x, Arrays.copyOf(Npy.toBytes(HostTensor.normal(X, 1)), 500));
        assertTrue(Cli.run("run", model.toString(), "--input", x.toString()).expect(1).err().contains("input 'x': " + x + ": truncated"));
    }

    @Test
    void refusesAMissingInputFile() {
        Cli.Result r = Cli.run("run", model.toString(), "--input", p("nothing.npy")).expect(1);
        assertTrue(r.err().contains("input 'x': no such file " + p("nothing.npy")), r.err());
    }

    @Test
    void refusesAMissingInputNamingItsExpectedType() {
        Cli.Result r = Cli.run("run", pairModel().toString(), "--input", "a=" + p("a.npy")).expect(2);
        assertTrue(r.err().contains("missing input 'b' (expected f32[2,3]): add --input b=FILE.npy"), r.err());
        assertTrue(Cli.run("run", model.toString()).expect(2).err().contains("Missing required option: '--input"));
    }

    @Test
    void refusesAnUnnamedInputWhenTheModelHasSeveral() {
        Cli.Result r = Cli.run("run", pairModel().toString(), "--input", p("a.npy")).expect(2);
        assertTrue(r.err().contains("the model has inputs [a, b]: name each one"), r.err());
    }

    @Test
    void refusesUnknownInputAndOutputNames() {
        assertTrue(Cli.run("run", model.toString(), "--input", "y=" + x).expect(2).err().contains("unknown input 'y'; the model's inputs are [x]"));
        assertTrue(Cli.run("run", model.toString(), "--input", x.toString(), "--output", "nope=" + p("o.npy")).expect(2)
                .err().contains("unknown output 'nope'"));
    }

    // ---- refusals: artifacts ----

    @Test
    void refusesATamperedArtifactInOneLine() throws IOException {
        byte[] b = Files.readAllBytes(model);
        b[b.length / 2] ^= 1;
        Files.write(model, b);
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().startsWith("kiln: error: " + model + ": checksum mismatch"), r.err());
        assertEquals(1, r.errorLines().lines().count(), r.err());
    }

    @Test
    void refusesATruncatedArtifact() throws IOException {
        Files.write(model, Arrays.copyOf(Files.readAllBytes(model), 100));
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().startsWith("kiln: error: " + model + ": truncated: section"), r.err());
    }

    @Test
    void refusesAnArtifactOfAnotherFormatVersion() throws IOException {
        byte[] b = Files.readAllBytes(model);
        b[4] = 1;
        Files.write(model, b);
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().contains("artifact format version 257 (byte 4) cannot be read"), r.err());
    }

    @Test
    void refusesToRunAnArtifactOnAnotherBackend() {
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString(), "--backend", "opencl").expect(1);
        assertTrue(r.err().contains("was compiled for target 'cpu', not 'opencl'"), r.err());
    }

    @Test
    void refusesAnArtifactForATargetThisBuildDoesNotHave() {
        Artifact a = Artifact.read(model);
        Artifact.of(a.graph(), a.fusionReport(), "tpu").write(model);
        Cli.Result r = Cli.run("run", model.toString(), "--input", x.toString()).expect(1);
        assertTrue(r.err().contains("compiled for target 'tpu', which this build of Kiln does not have"), r.err());
    }

    @Test
    void verboseAddsTheStackTrace() {
        Cli.Result r = Cli.run("run", p("missing.kiln"), "--input", x.toString(), "--verbose").expect(1);
        assertTrue(r.err().contains("\tat dev.kiln.runtime.Artifact.read"), r.err());
        assertTrue(r.err().contains("kiln: error: " + p("missing.kiln") + ": no such file"), r.err());
    }

    /** An npy v1.0 file of little-endian f64 zeros. */
    static byte[] npyF64(Shape s) {
        int[] d = s.dims();
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < d.length; i++) shape.append(i > 0 ? ", " : "").append(d[i]);
        String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + "), }";
        int headerLen = (10 + dict.length() + 1 + 63) / 64 * 64 - 10;
        String header = dict + " ".repeat(headerLen - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + headerLen + 8 * (int) s.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0).putShort((short) headerLen);
        b.put(header.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

}
