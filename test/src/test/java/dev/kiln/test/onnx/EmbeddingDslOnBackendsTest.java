package dev.kiln.test.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Embedding;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.DType;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.InvalidIndexException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DSL's Embedding in the text classifier PyTorch exported (text-classifier fixture: Embedding(50, 16), mean over
 * the sequence, Linear(16, 4)), loaded with PyTorch's state_dict, compiled on each backend and run on int64 token ids
 * at the exported length and another (the DSL model specialises per shape).
 */
class EmbeddingDslOnBackendsTest {
    static final class TextClassifier extends Module {
        final Embedding embedding = register("embedding", new Embedding(50, 16));
        final Linear fc = register("fc", new Linear(16, 4));

        @Override public DType inputDType() { return embedding.inputDType(); }

        @Override public Tensor forward(Tensor ids) { return fc.apply(embedding.apply(ids).mean(1)); }
    }

    static Map<String, HostTensor> stateDict() {
        Map<String, HostTensor> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(OnnxFixtures.path("text-classifier/state"))) {
            for (Path p : files.toList()) m.put(p.getFileName().toString().replaceFirst("\\.npy$", ""), Npy.read(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.kiln.test.kit.Targets#backends")
    void matchesPyTorchAtTheExportedLengthAndTheReferenceAtAnother(String backend) {
        TextClassifier model = new TextClassifier().load(stateDict());
        assertEquals(stateDict().keySet(), new TreeMap<>(model.stateDict()).keySet(), "PyTorch's state_dict names");
        OnnxFixtures f = OnnxFixtures.of("text-classifier", 17);
        HostTensor ids = f.inputData().get("ids"), want = f.expectedOutputs().getFirst();
        assertEquals(DType.I64, ids.dtype());
        try (CompiledModel m = Kiln.compile(model, Targets.require(backend), ids.shape())) {
            assertEquals("i64[2,7]", m.signature().inputs().getFirst().type().toString());
            double err = m.run(ids).relativeL2Error(want);
            assertTrue(err < 1e-5, "relative L2 error " + err + " against PyTorch");
            HostTensor other = HostTensor.ofLongs(new long[]{3, 49, 0, -1, 7, 7}, 2, 3);
            HostTensor ref = ReferenceInterpreter.run(Tracer.trace(model, "x", other.shape()), other);
            assertTrue(m.run(other).relativeL2Error(ref) < 1e-5);
            var e = assertThrows(InvalidIndexException.class, () -> m.run(HostTensor.ofLongs(new long[]{3, 50}, 1, 2)));
            assertTrue(e.getMessage().contains("embedding") && e.getMessage().contains("gather index 50"), e.getMessage());
            var wrongType = assertThrows(dev.kiln.ir.ShapeException.class, () -> m.run(HostTensor.zeros(2, 7)));
            assertTrue(wrongType.getMessage().contains("HostTensor.ofLongs"), wrongType.getMessage());
        }
    }

    @Test
    void aSequentialStartingWithAnEmbeddingTakesIdsAndThePaddingRowStartsAtZero() {
        Embedding e = new Embedding(10, 4).paddingIdx(1);
        Sequential s = new Sequential(e, new Linear(4, 2));
        var g = Tracer.trace(s, "x", Shape.of(3));
        assertEquals(DType.I64, g.inputs().getFirst().type().dtype());
        HostTensor w = e.initialize(5).stateDict().get("weight");
        for (int j = 0; j < 4; j++) assertEquals(0f, w.get(1, j));
        assertThrows(IllegalArgumentException.class, () -> new Embedding(10, 4).paddingIdx(10));
    }
}
