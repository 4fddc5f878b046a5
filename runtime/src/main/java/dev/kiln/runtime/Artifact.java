package dev.kiln.runtime;

import dev.kiln.frontend.weights.Safetensors;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Verifier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A saved compilation: manifest, optimised graph (text IR), fusion report and weights
 * (safetensors), in the container of {@link ArtifactContainer}. Reading verifies the checksum,
 * parses and verifies the graph, binds the weights and checks the manifest's signature against
 * the graph. It holds no code: whoever runs it regenerates the kernels from the graph.
 * {@code source} names where it was read from, for error messages.
 */
public record Artifact(Manifest manifest, Graph graph, String fusionReport, String source, byte[] sourceModel) {

    /** An artifact of an optimised graph (weights bound) compiled for the named target. */
    public static Artifact of(Graph optimised, String fusionReport, String target) {
        Verifier.verify(optimised);
        for (String c : optimised.constants().keySet()) optimised.weight(c);
        return new Artifact(Manifest.of(optimised, target), optimised, fusionReport, "<new artifact @" + optimised.name() + ">", null);
    }

    /**
     * This artifact keeping the ONNX model it was imported from (null: none), for a model with dynamic dimensions
     * (batch, sequence): loading it compiles other input shapes from that model on first use.
     */
    public Artifact withSourceModel(byte[] onnx) { return new Artifact(manifest, graph, fusionReport, source, onnx); }

    /** Whether calls at other input shapes can be compiled (from the ONNX model kept inside). */
    public boolean hasSourceModel() { return sourceModel != null; }

    /**
     * Each input's dimensions as the kept ONNX model declares them ("batch", "sequence", or a number), in input
     * order; empty when the artifact's shapes are fixed.
     */
    public Map<String, List<String>> declaredDims() {
        return sourceModel == null ? Map.of() : dev.kiln.frontend.onnx.OnnxImporter.declaredDims(sourceModel, source + " section ONNX");
    }

    /** "ids [batch, sequence], attention_mask [batch, sequence]": the inputs with a symbolic dimension, as declared. */
    public static String describeSymbolic(Map<String, List<String>> declared) {
        return declared.entrySet().stream().filter(e -> e.getValue() != null && e.getValue().stream().anyMatch(Artifact::symbolic))
                .map(e -> e.getKey() + " " + e.getValue()).collect(java.util.stream.Collectors.joining(", "));
    }

    /** Whether a declared dimension is symbolic (not a number). */
    public static boolean symbolic(String dim) { return dim.isEmpty() || !dim.chars().allMatch(Character::isDigit); }

    public String target() { return manifest.target(); }
    public Signature signature() { return manifest.signature(); }
    public int formatVersion() { return manifest.format(); }
    public String kilnVersion() { return manifest.kilnVersion(); }

    public byte[] toBytes() {
        Map<String, HostTensor> weights = graph.weights();
        List<byte[]> sections = new ArrayList<>(List.of(utf8(manifest.toText()), utf8(IrPrinter.print(graph)), utf8(fusionReport),
                Safetensors.toBytes(weights, Map.of())));
        if (sourceModel != null) sections.add(sourceModel);
        return ArtifactContainer.encode(sections);
    }

    /** Writes the file whole or not at all (through a temporary file beside it). */
    public void write(Path file) {
        Path abs = file.toAbsolutePath();
        try {
            if (abs.getParent() != null) Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
            try {
                Files.write(tmp, toBytes());
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new KilnException("cannot write artifact " + file + ": " + e, e);
        }
    }

    public static Artifact read(Path file) {
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 64) throw new KilnException(file + ": artifact larger than 2 GiB is not supported");
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new KilnException(file + ": no such file");
        } catch (IOException e) {
            throw new KilnException(file + ": cannot read: " + e, e);
        }
        return fromBytes(bytes, file.toString());
    }

    /** Decodes and verifies an artifact; {@code source} names it in errors. */
    public static Artifact fromBytes(byte[] bytes, String source) {
        List<byte[]> s = ArtifactContainer.decode(bytes, source);
        Manifest m = Manifest.parse(text(s.get(0), source, "MANI"), source + " section MANI");
        if (m.format() != ArtifactContainer.FORMAT_VERSION)
            throw new MalformedFileException(source + ": section MANI says format " + m.format() + " but the header says " + ArtifactContainer.FORMAT_VERSION);
        Graph g;
        try {
            g = IrParser.parse(text(s.get(1), source, "GRPH"), source + " section GRPH");
        } catch (MalformedFileException e) {
            throw e;
        } catch (KilnException | IllegalArgumentException e) {
            throw new MalformedFileException(source + " section GRPH: " + e.getMessage(), e);
        }
        g = bindWeights(g, Safetensors.read(s.get(3), source + " section WGHT"), source);
        Signature actual = Signature.of(g);
        if (!actual.equals(m.signature()))
            throw new MalformedFileException(source + ": the manifest's signature " + m.signature()
                    + " differs from the graph's " + actual);
        return new Artifact(m, g, text(s.get(2), source, "FUSN"), source, s.size() > 4 ? s.get(4) : null);
    }

    private static Graph bindWeights(Graph g, Map<String, HostTensor> weights, String source) {
        TreeSet<String> missing = new TreeSet<>(g.constants().keySet()), extra = new TreeSet<>(weights.keySet());
        missing.removeAll(weights.keySet());
        extra.removeAll(g.constants().keySet());
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) problems.add("constants without data " + missing);
        if (!extra.isEmpty()) problems.add("tensors the graph does not declare " + extra);
        if (!problems.isEmpty()) throw new MalformedFileException(source + " section WGHT: " + String.join("; ", problems));
        try {
            return Verifier.verify(g.withWeights(weights));
        } catch (KilnException e) {
            throw new MalformedFileException(source + " section WGHT: " + e.getMessage(), e);
        }
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    private static String text(byte[] b, String source, String tag) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(source + " section " + tag + ": not valid UTF-8 text");
        }
    }
}
