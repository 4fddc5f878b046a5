package dev.kiln.frontend.onnx;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The fixtures tools/fixtures/make_onnx_fixtures.py writes under fixtures/onnx/: per model, one
 * .onnx file per opset, its inputs and PyTorch's outputs by ONNX name, and a case.txt naming
 * them (and the input shapes to pass, for models exported with dynamic dimensions).
 */
record OnnxFixtures(String model, int opset, List<String> inputs, List<String> outputs, Map<String, Shape> inputShapes) {
    static final List<String> MODELS = List.of("dwsep", "mobilenet", "mobilenet-bn", "attention", "adaptive-attention",
            "generator", "cnn", "lstm", "lstm-state", "seq-attention", "seq-attention-general", "gelu", "pad-conv", "ops", "ops-dynamic",
            "activations", "masks-minmax", "mobilenet-v2", "mobilenet-v3-small",
            "dcgan", "unet-transposed", "convtranspose-zoo",
            "espcn", "channel-shuffle", "style-pad", "unet-upsample", "unet-upsample-corners",
            "audio-1d", "audio-1d-bn", "se-mean", "norms", "shufflenet-v2",
            "transformer-post", "transformer-pre-gelu",
            "gru", "bilstm", "bigru", "gru-classifier", "split-qkv");

    static Path path(String relative) {
        try {
            var url = OnnxFixtures.class.getResource("/fixtures/onnx/" + relative);
            assertNotNull(url, () -> "missing fixture fixtures/onnx/" + relative + "; run tools/fixtures/make_onnx_fixtures.py");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** Every (model, opset) pair the fixtures hold. */
    static Stream<OnnxFixtures> all() {
        return MODELS.stream().flatMap(m -> {
            Map<String, String> c = caseFile(m);
            return Arrays.stream(c.get("opsets").split(",")).map(o -> new OnnxFixtures(m, Integer.parseInt(o.strip()),
                    List.of(c.get("inputs").split(",")), List.of(c.get("outputs").split(",")), shapes(c.get("input_shapes"))));
        });
    }

    static OnnxFixtures of(String model, int opset) {
        return all().filter(f -> f.model.equals(model) && f.opset == opset).findFirst().orElseThrow();
    }

    Path file() { return path(model + "/opset" + opset + ".onnx"); }

    Graph load() { return OnnxImporter.load(file(), inputShapes); }

    /** Inputs by the graph's input names (which are the ONNX names). */
    Map<String, HostTensor> inputData() {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        for (String i : inputs) m.put(i, Npy.read(path(model + "/io/" + i + ".npy")));
        return m;
    }

    List<HostTensor> expectedOutputs() {
        return outputs.stream().map(o -> Npy.read(path(model + "/io/" + o + ".npy"))).toList();
    }

    @Override public String toString() { return model + " @ opset " + opset; }

    private static Map<String, String> caseFile(String model) {
        try {
            Map<String, String> m = new LinkedHashMap<>();
            for (String line : Files.readAllLines(path(model + "/case.txt"))) {
                int eq = line.indexOf('=');
                if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "x=3,3,8,8;h=1,2" → shapes by input name. */
    private static Map<String, Shape> shapes(String text) {
        Map<String, Shape> m = new LinkedHashMap<>();
        if (text == null || text.isBlank()) return m;
        for (String part : text.split(";")) {
            String[] kv = part.split("=");
            m.put(kv[0].strip(), Shape.of(Arrays.stream(kv[1].split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray()));
        }
        return m;
    }
}
