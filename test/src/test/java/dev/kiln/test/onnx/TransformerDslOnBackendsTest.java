package dev.kiln.test.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MultiheadAttention;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import dev.kiln.passes.PassManager;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The DSL's nn.TransformerEncoderLayer (post-norm ReLU, pre-norm GELU) and nn.MultiheadAttention
 * (cross-attention over another length, with an additive mask) loaded with PyTorch's own
 * state_dict give PyTorch's eval-mode output on the reference and on each backend, and their
 * attention is fused by fuse-attention.
 */
class TransformerDslOnBackendsTest {
    /** A query attending over a fixed key/value sequence with a fixed mask (the fixture's kv and mask, as constants). */
    static final class CrossAttention extends Module {
        final MultiheadAttention mha = register("mha", new MultiheadAttention(16, 4).batchFirst(true));
        final HostTensor kv, mask;

        CrossAttention(HostTensor kv, HostTensor mask) { this.kv = kv; this.mask = mask; }

        @Override public Tensor forward(Tensor q) {
            Tensor k = constant("kv", kv);
            return mha.apply(q, k, k, constant("mask", mask));
        }
    }

    private static Map<String, HostTensor> stateDict(String model) throws IOException {
        Map<String, HostTensor> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(OnnxFixtures.path(model + "/state"))) {
            for (Path p : files.toList()) m.put(p.getFileName().toString().replaceFirst("\\.npy$", ""), Npy.read(p));
        }
        return m;
    }

    private static HostTensor io(String model, String name) { return Npy.read(OnnxFixtures.path(model + "/io/" + name + ".npy")); }

    private static Module model(String fixture) {
        return switch (fixture) {
            case "encoder-layer-post" -> new TransformerEncoderLayer(16, 4, 32).batchFirst(true);
            case "encoder-layer-pre-gelu" -> new TransformerEncoderLayer(16, 4, 32).batchFirst(true).normFirst(true)
                    .activation(TransformerEncoderLayer.Activation.GELU);
            case "mha-cross" -> new CrossAttention(io(fixture, "kv"), io(fixture, "mask"));
            default -> throw new IllegalArgumentException(fixture);
        };
    }

    private static Module loaded(String fixture) throws IOException {
        Module m = model(fixture);
        Map<String, HostTensor> sd = stateDict(fixture);
        assertEquals(sd.keySet(), new TreeMap<>(m.stateDict()).keySet(), "the DSL's parameter names are PyTorch's");
        return m.load(sd);
    }

    private static String input(String fixture) { return fixture.equals("mha-cross") ? "q" : "x"; }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"encoder-layer-post", "encoder-layer-pre-gelu", "mha-cross"})
    void referenceMatchesPyTorchAndTheAttentionIsFused(String fixture) throws IOException {
        Module m = loaded(fixture);
        HostTensor x = io(fixture, input(fixture)), want = io(fixture, "y");
        Graph g = Tracer.trace(m, "x", x.shape());
        HostTensor got = ReferenceInterpreter.run(g, x);
        assertTrue(got.relativeL2Error(want) < 1e-5, () -> fixture + ": relative L2 error " + got.relativeL2Error(want));
        PassManager.Result r = PassManager.defaults().run(g);
        assertEquals(1, r.graph().nodes().stream().filter(n -> n.op() instanceof FusedAttention).count(), () -> r.report() + "\n" + r.graph());
        assertEquals(0, r.graph().nodes().stream().filter(n -> n.op() instanceof Softmax).count(), () -> r.report() + "\n" + r.graph());
        assertTrue(r.report().toString().contains("fused_attention"), r.report()::toString);
        assertEquals(0, r.graph().nodes().stream().filter(n -> n.op() instanceof Unary).count(), () -> "the activation joins linear1:\n" + r.graph());
    }

    /** Linear + bias + GELU, in the exact (erf) and the tanh form, is one linear with the activation in its epilogue. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"GELU", "GELU_TANH"})
    void linearBiasGeluIsOneLinear(Unary.Kind kind) {
        Module m = new Module() {
            final Linear fc = register("fc", new Linear(16, 32));
            @Override public Tensor forward(Tensor x) { return kind == Unary.Kind.GELU ? fc.apply(x).gelu() : fc.apply(x).geluTanh(); }
        }.initialize(5);
        PassManager.Result r = PassManager.defaults().run(Tracer.trace(m, 2, 5, 16));
        assertEquals(1, r.graph().nodes().size(), r.graph()::toString);
        assertTrue(r.graph().nodes().getFirst().op() instanceof dev.kiln.ir.op.Linear l && l.epilogue().toString().contains(kind.name().toLowerCase()),
                r.graph()::toString);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"encoder-layer-post, cpu", "encoder-layer-post, opencl", "encoder-layer-pre-gelu, cpu", "encoder-layer-pre-gelu, opencl",
            "mha-cross, cpu", "mha-cross, opencl"})
    void backendsMatchPyTorch(String fixture, String backend) throws IOException {
        var target = Targets.require(backend);
        Module m = loaded(fixture);
        HostTensor x = io(fixture, input(fixture)), want = io(fixture, "y");
        try (CompiledModel c = Kiln.compile(m, target, x.shape())) {
            HostTensor got = c.run(x);
            assertTrue(got.relativeL2Error(want) < 1e-4, () -> fixture + " on " + backend + ": relative L2 error " + got.relativeL2Error(want));
        }
    }

    @Test
    void pyTorchsDefaultSequenceFirstLayoutGivesTheSameAsBatchFirst() {
        var first = new TransformerEncoderLayer(16, 4, 32).normFirst(true).initialize(3);
        var batchFirst = new TransformerEncoderLayer(16, 4, 32).batchFirst(true).normFirst(true).load(first.stateDict());
        HostTensor x = HostTensor.normal(Shape.of(2, 6, 16), 4);                 // [B, L, E]
        HostTensor seqFirst = ReferenceInterpreter.run(Tracer.trace(new Permuted(), "x", x.shape()), x);   // [L, B, E]
        HostTensor a = ReferenceInterpreter.run(Tracer.trace(first, "x", seqFirst.shape()), seqFirst);
        HostTensor b = ReferenceInterpreter.run(Tracer.trace(batchFirst, "x", x.shape()), x);
        HostTensor bSeqFirst = ReferenceInterpreter.run(Tracer.trace(new Permuted(), "x", b.shape()), b);
        assertTrue(a.relativeL2Error(bSeqFirst) < 1e-6, () -> "relative L2 error " + a.relativeL2Error(bSeqFirst));
    }

    static final class Permuted extends Module {
        @Override public Tensor forward(Tensor x) { return x.transpose(0, 1); }
    }

    @Test
    void badShapesAreRefusedNamingTheLayer() {
        var e = assertThrows(ShapeException.class, () -> Tracer.trace(new TransformerEncoderLayer(16, 4, 32).batchFirst(true), 2, 6, 12));
        assertTrue(e.getMessage().contains("self_attn") && e.getMessage().contains("[B, L, 16]"), e.getMessage());
        var mask = new CrossAttention(HostTensor.zeros(2, 7, 16), HostTensor.zeros(4, 7));
        e = assertThrows(ShapeException.class, () -> Tracer.trace(mask, 2, 5, 16));
        assertTrue(e.getMessage().contains("attn_mask") && e.getMessage().contains("[5, 7]"), e.getMessage());
        var batch = new CrossAttention(HostTensor.zeros(3, 7, 16), HostTensor.zeros(5, 7));
        e = assertThrows(ShapeException.class, () -> Tracer.trace(batch, 2, 5, 16));
        assertTrue(e.getMessage().contains("batch 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(16, 5));
    }
}
