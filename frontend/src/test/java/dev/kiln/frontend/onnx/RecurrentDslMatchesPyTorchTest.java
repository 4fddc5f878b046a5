package dev.kiln.frontend.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.GRU;
import dev.kiln.frontend.nn.LSTM;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Gru;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The DSL's bidirectional, stacked LSTM and GRU loaded with PyTorch's own state_dict (saved beside
 * the bilstm and gru-classifier ONNX fixtures) give PyTorch's output: the parameter names, shapes,
 * gate orders and the direction layout are PyTorch's.
 */
class RecurrentDslMatchesPyTorchTest {
    /** rnn (2 layers, bidirectional, batch-first, hidden 16 on 8 features), then a linear layer on the last step. */
    static final class Classifier extends Module {
        final Module rnn;
        final Linear fc;

        Classifier(String rnnName, Module rnn) {
            this.rnn = register(rnnName, rnn);
            this.fc = register("fc", new Linear(32, 3));
        }

        @Override public Tensor forward(Tensor x) { return fc.apply(rnn.apply(x).select(1, -1)); }
    }

    private static Map<String, HostTensor> stateDict(String model) throws IOException {
        Map<String, HostTensor> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(OnnxFixtures.path(model + "/state"))) {
            for (Path p : files.toList()) m.put(p.getFileName().toString().replaceFirst("\\.npy$", ""), Npy.read(p));
        }
        return m;
    }

    private static void assertMatches(String model, Module m) throws IOException {
        Map<String, HostTensor> sd = stateDict(model);
        assertEquals(sd.keySet(), new TreeMap<>(m.stateDict()).keySet(), "the DSL's parameter names are PyTorch's");
        m.load(sd);
        HostTensor x = Npy.read(OnnxFixtures.path(model + "/io/x.npy")), want = Npy.read(OnnxFixtures.path(model + "/io/y.npy"));
        Graph g = Tracer.trace(m, x.shape().dims());
        HostTensor got = ReferenceInterpreter.run(g, Map.of("x", x)).values().iterator().next();
        assertTrue(got.relativeL2Error(want) < 1e-5, () -> model + ": relative L2 error " + got.relativeL2Error(want));
    }

    @Test
    void bidirectionalTwoLayerLstmMatchesPyTorch() throws IOException {
        assertMatches("bilstm", new Classifier("lstm", new LSTM(8, 16, 2).batchFirst(true).bidirectional(true)));
    }

    @Test
    void bidirectionalTwoLayerGruMatchesPyTorchAsOneOpPerLayer() throws IOException {
        Classifier m = new Classifier("gru", new GRU(8, 16, 2).batchFirst(true).bidirectional(true));
        assertMatches("gru-classifier", m);
        Graph g = Tracer.trace(m, 2, 5, 8);
        List<Gru> grus = g.nodes().stream().map(n -> n.op()).filter(Gru.class::isInstance).map(Gru.class::cast).toList();
        assertEquals(List.of(new Gru(16, 1, true, false, true), new Gru(16, 1, true, false, true)), grus);
    }

    @Test
    void stackedGruIsOneOp() {
        Graph g = Tracer.trace(new GRU(8, 16, 3), 5, 2, 8);
        assertEquals(List.of(new Gru(16, 3, false, false, false)),
                g.nodes().stream().map(n -> n.op()).filter(Gru.class::isInstance).toList());
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                new GRU(8, 16, 3).stateDict().keySet().stream().limit(4).toList());
    }
}
