package dev.kiln.test.onnx;

import dev.kiln.frontend.onnx.OnnxImporter;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The ONNX fixtures of the frontend module (tools/fixtures/make_onnx_fixtures.py writes them to
 * frontend/src/test/resources/fixtures/onnx/): per model, one .onnx file per opset, its inputs and
 * PyTorch's outputs by ONNX name, and a case.txt naming them. Found from the working directory
 * upwards (Maven runs this module in test/, IDEs often at the root), or at -Dkiln.onnxFixtures.
 */
record OnnxFixtures(String model, int opset, List<String> inputs, List<String> outputs, Map<String, Shape> inputShapes) {
    static final String RELATIVE = "frontend/src/test/resources/fixtures/onnx";

    static Path root() {
        String given = System.getProperty("kiln.onnxFixtures");
        if (given != null && !given.isBlank()) return Path.of(given);
        Path start = Path.of("").toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) {
            Path f = d.resolve(RELATIVE);
            if (Files.isDirectory(f)) return f;
        }
        return fail("cannot find " + RELATIVE + " in " + start + " or any directory above it; pass -Dkiln.onnxFixtures=<dir>");
    }

    static Path path(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) fail("missing fixture " + p + "; run tools/fixtures/make_onnx_fixtures.py");
        return p;
    }

    static OnnxFixtures of(String model, int opset) {
        Map<String, String> c = caseFile(model);
        if (Arrays.stream(c.get("opsets").split(",")).noneMatch(o -> Integer.parseInt(o.strip()) == opset))
            fail(model + " has no fixture for opset " + opset + " (it has " + c.get("opsets") + ")");
        return new OnnxFixtures(model, opset, List.of(c.get("inputs").split(",")), List.of(c.get("outputs").split(",")), shapes(c.get("input_shapes")));
    }

    Graph load() { return OnnxImporter.load(path(model + "/opset" + opset + ".onnx"), inputShapes); }

    /** Inputs by the graph's input names (the ONNX names). */
    Map<String, HostTensor> inputData() {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        for (String i : inputs) {
            Path p = path(model + "/io/" + i + ".npy");
            try {
                m.put(i, Npy.readInput(Files.readAllBytes(p), p.toString()));   // token ids stay integers
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return m;
    }

    List<HostTensor> expectedOutputs() {
        return outputs.stream().map(o -> Npy.read(path(model + "/io/" + o + ".npy"))).toList();
    }

    @Override public String toString() { return model + " @ opset " + opset; }

    private static Map<String, String> caseFile(String model) {
        try (Stream<String> lines = Files.lines(path(model + "/case.txt"))) {
            Map<String, String> m = new LinkedHashMap<>();
            lines.forEach(line -> {
                int eq = line.indexOf('=');
                if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
            });
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
