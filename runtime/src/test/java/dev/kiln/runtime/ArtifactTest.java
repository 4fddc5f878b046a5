package dev.kiln.runtime;

import dev.kiln.frontend.models.Examples;
import dev.kiln.frontend.models.SmallCnn;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.testing.SkipOrFail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArtifactTest {
    @TempDir Path dir;

    private Path saveSmall(String name) {
        Path file = dir.resolve(name);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            m.save(file);
        }
        return file;
    }

    private void roundTripIsBitForBit(Target target) {
        for (String name : List.of("dwsep", "cnn", "attention")) {
            Examples.Example ex = Examples.byName(name);
            Path file = dir.resolve(name + "-" + target.backendName() + ".kiln");
            HostTensor x = HostTensor.normal(ex.inputShape(), 21);
            Map<String, HostTensor> inProcess;
            try (CompiledModel m = Kiln.compile(ex.model().get(), target, ex.inputShape())) {
                inProcess = m.run(Map.of("x", x));
                m.save(file);
            }
            try (CompiledModel loaded = Kiln.load(file)) {
                assertEquals(target.backendName(), loaded.target().backendName());
                assertEquals(inProcess, loaded.run(Map.of("x", x)), name + " on " + target);
            }
        }
    }

    @Test
    void compileSaveLoadRunIsBitForBitOnCpu() { roundTripIsBitForBit(Target.cpu()); }

    @Test
    void compileSaveLoadRunIsBitForBitOnOpenCl() {
        SkipOrFail.requireBackend("opencl");
        roundTripIsBitForBit(Target.opencl());
    }

    @Test
    void manifestRecordsTargetVersionsAndSignature() {
        Artifact a = Artifact.read(saveSmall("m.kiln"));
        assertEquals("cpu", a.target());
        assertEquals(ArtifactContainer.FORMAT_VERSION, a.formatVersion());
        assertEquals(Kiln.VERSION, a.kilnVersion());
        assertEquals("(x: f32[1,4,8,8]) -> (" + a.graph().outputs().getFirst() + ": f32[1,8,8,8])", a.signature().toString());
        assertTrue(a.fusionReport().contains("fused"), a.fusionReport());
    }

    @Test
    void savingIsReproducible() throws IOException {
        assertArrayEquals(Files.readAllBytes(saveSmall("a.kiln")), Files.readAllBytes(saveSmall("b.kiln")));
    }

    @Test
    void refusesTamperedArtifact() throws IOException {
        Path file = saveSmall("m.kiln");
        byte[] b = Files.readAllBytes(file);
        int at = indexOf(b, "conv".getBytes(StandardCharsets.US_ASCII));
        b[at] = 'k';
        Files.write(file, b);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().startsWith(file + ": checksum mismatch"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 7, 15, 60, 500, -40, -32, -1})
    void refusesTruncatedArtifact(int cut) throws IOException {
        Path file = saveSmall("m.kiln");
        byte[] b = Files.readAllBytes(file);
        int keep = cut >= 0 ? cut : b.length + cut;
        Files.write(file, Arrays.copyOf(b, keep));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().startsWith(file + ": truncated") && e.getMessage().contains("byte"), e.getMessage());
    }

    @Test
    void refusesWrongFormatVersion() throws IOException {
        Path file = saveSmall("m.kiln");
        byte[] b = Files.readAllBytes(file);
        b[5] = 2;
        Files.write(file, b);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("artifact format version 2 (byte 4) cannot be read by Kiln " + Kiln.VERSION), e.getMessage());
    }

    @Test
    void refusesArtifactForATargetThisBuildDoesNotHave() {
        Path file = dir.resolve("tpu.kiln");
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            Artifact.of(m.optimisedGraph(), m.fusionReportText(), "tpu").write(file);
        }
        KilnException e = assertThrows(KilnException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("compiled for target 'tpu', which this build of Kiln does not have"), e.getMessage());
    }

    @Test
    void refusesLoadingForAnotherTargetThanCompiled() {
        Path file = saveSmall("m.kiln");
        KilnException e = assertThrows(KilnException.class, () -> Kiln.load(file, Target.opencl()));
        assertTrue(e.getMessage().contains("compiled for target 'cpu', not 'opencl'"), e.getMessage());
    }

    @Test
    void refusesAGraphThatFailsVerificationEvenWithAValidChecksum() throws IOException {
        Path file = saveSmall("m.kiln");
        List<byte[]> sections = new ArrayList<>(ArtifactContainer.decode(Files.readAllBytes(file), "m"));
        String ir = new String(sections.get(1), StandardCharsets.UTF_8);
        sections.set(1, ir.replaceFirst("f32\\[1,8,8,8\\] =", "f32[1,8,8,9] =").getBytes(StandardCharsets.UTF_8));
        Files.write(file, ArtifactContainer.encode(sections));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("section GRPH") && e.getMessage().contains("[1,8,8,9]"), e.getMessage());
    }

    @Test
    void refusesIrThatNamesAnythingButAKilnOp() throws IOException {
        Path file = saveSmall("m.kiln");
        List<byte[]> sections = new ArrayList<>(ArtifactContainer.decode(Files.readAllBytes(file), "m"));
        String ir = new String(sections.get(1), StandardCharsets.UTF_8);
        sections.set(1, ir.replaceFirst("= fused_dw_pw_conv\\(", "= java.lang.Runtime(").getBytes(StandardCharsets.UTF_8));
        Files.write(file, ArtifactContainer.encode(sections));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("section GRPH"), e.getMessage());
    }

    @Test
    void refusesWeightsThatDoNotMatchTheGraph() throws IOException {
        Path file = dir.resolve("cnn.kiln");
        try (CompiledModel m = Kiln.compile(new SmallCnn(), Target.cpu(), Shape.of(1, 3, 24, 24))) {
            m.save(file);
        }
        List<byte[]> sections = new ArrayList<>(ArtifactContainer.decode(Files.readAllBytes(file), "m"));
        try (CompiledModel other = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            sections.set(3, dev.kiln.frontend.weights.Safetensors.toBytes(other.optimisedGraph().weights(), Map.of()));
        }
        Files.write(file, ArtifactContainer.encode(sections));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("section WGHT: constants without data"), e.getMessage());
    }

    @Test
    void refusesAFileThatIsNotAnArtifact() throws IOException {
        Path file = dir.resolve("x.kiln");
        Files.writeString(file, "graph @x() {}");
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Kiln.load(file));
        assertTrue(e.getMessage().contains("not a Kiln artifact: bad magic at byte 0"), e.getMessage());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
