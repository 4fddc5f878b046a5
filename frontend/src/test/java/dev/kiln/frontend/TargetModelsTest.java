package dev.kiln.frontend;

import dev.kiln.frontend.models.AdaptiveAttentionModule;
import dev.kiln.frontend.models.AttentionModule;
import dev.kiln.frontend.models.DepthwiseSeparableConv2d;
import dev.kiln.frontend.models.Examples;
import dev.kiln.frontend.models.Generator;
import dev.kiln.frontend.models.LstmClassifier;
import dev.kiln.frontend.models.MobileNetStack;
import dev.kiln.frontend.models.SequenceAttention;
import dev.kiln.frontend.models.SmallCnn;
import dev.kiln.frontend.weights.Npy;
import dev.kiln.frontend.weights.Weights;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Verifier;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The target models against PyTorch. tools/fixtures/make_model_fixtures.py writes each model
 * again in PyTorch, module for module, and saves its state_dict, an input and PyTorch's output
 * under fixtures/models/&lt;name&gt;/; here the Kiln model with the same constructor arguments
 * loads those weights by name, is traced, and the reference interpreter must reproduce the
 * output. Then every built-in example at its demo size: it traces, runs, and names its
 * weights and nodes the way a PyTorch user would.
 */
class TargetModelsTest {
    /*
     * Tolerances: PyTorch accumulates in f32 (in its own blocked order), the reference
     * interpreter in double with one rounding per op. What separates them is f32 rounding
     * compounded over a few layers, about 1e-7 relative; 1e-5 leaves two orders of margin
     * for that, while any real semantic slip (a transposed weight, wrong padding, BN left
     * as identity, the wrong softmax axis) is off by 1e-2 or more. The element-wise check
     * catches a few badly wrong elements that a norm over thousands of good ones would hide;
     * its atol covers outputs that are near zero (ReLU, the attention products).
     */
    static final double MAX_RELATIVE_L2 = 1e-5, RTOL = 1e-4, ATOL = 1e-5;

    static Path fixture(String relative) {
        try {
            var url = TargetModelsTest.class.getResource("/fixtures/models/" + relative);
            assertNotNull(url, () -> "missing fixture fixtures/models/" + relative + "; run tools/fixtures/make_model_fixtures.py");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The fixture models whose weights are npy files: name, and the Kiln model with the arguments the script used. */
    static Stream<Arguments> npyFixtures() {
        return Stream.of(
                Arguments.of("dwsep", (Supplier<Module>) () -> new DepthwiseSeparableConv2d(8, 16)),
                Arguments.of("mobilenet", (Supplier<Module>) () -> new MobileNetStack(4)),
                Arguments.of("attention", (Supplier<Module>) () -> new AttentionModule(16)),
                Arguments.of("adaptive-attention", (Supplier<Module>) () -> new AdaptiveAttentionModule(16)),
                Arguments.of("generator", (Supplier<Module>) () -> new Generator(3, 8, 2)),
                Arguments.of("lstm", (Supplier<Module>) () -> new LstmClassifier(5, 7, 3)),
                Arguments.of("seq-attention", (Supplier<Module>) () -> new SequenceAttention(16, SequenceAttention.Scoring.DOT)),
                Arguments.of("seq-attention-general", (Supplier<Module>) () -> new SequenceAttention(16, SequenceAttention.Scoring.GENERAL)));
    }

    // ---- outputs against PyTorch ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("npyFixtures")
    void matchesPyTorchWithWeightsFromNpyFiles(String name, Supplier<Module> factory, TestReporter report) {
        Module model = factory.get().load(Weights.npyDirectory(fixture(name)));
        assertMatchesPyTorch(name, model, report);
    }

    @Test
    void smallCnnMatchesPyTorchWithWeightsFromSafetensors(TestReporter report) {
        Module model = new SmallCnn().load(Weights.safetensors(fixture("cnn.safetensors")));
        assertMatchesPyTorch("cnn", model, report);
    }

    private static void assertMatchesPyTorch(String name, Module model, TestReporter report) {
        HostTensor x = Npy.read(fixture(name + "/io/input.npy"));
        HostTensor expected = Npy.read(fixture(name + "/io/output.npy"));
        Graph g = Verifier.verify(Tracer.trace(model, x.shape().dims()));
        assertEquals(expected.shape(), g.typeOf(g.outputs().getFirst()).shape(), "traced output type");

        HostTensor y = ReferenceInterpreter.run(g, x);
        double rel = y.relativeL2Error(expected), maxAbs = y.maxAbsError(expected);
        report.publishEntry(name, String.format("relative L2 error %.3e, max abs error %.3e", rel, maxAbs));
        assertTrue(rel <= MAX_RELATIVE_L2, () -> name + ": relative L2 error " + rel + " > " + MAX_RELATIVE_L2);
        assertTrue(y.allClose(expected, RTOL, ATOL), () -> name + ": not allClose, max abs error " + maxAbs);
    }

    @Test
    void theComparisonNoticesBatchNormLeftAsTheIdentity() {
        // The fixtures randomise BN's statistics; with them reset to mean 0, var 1 the output must be far off.
        Map<String, HostTensor> w = new java.util.LinkedHashMap<>(Weights.npyDirectory(fixture("mobilenet")));
        w.replaceAll((k, v) -> k.endsWith("running_mean") ? HostTensor.zeros(v.shape())
                : k.endsWith("running_var") ? HostTensor.full(v.shape(), 1f) : v);
        HostTensor x = Npy.read(fixture("mobilenet/io/input.npy"));
        HostTensor y = ReferenceInterpreter.run(Tracer.trace(new MobileNetStack(4).load(w), x.shape().dims()), x);
        assertTrue(y.relativeL2Error(Npy.read(fixture("mobilenet/io/output.npy"))) > 1e-2);
    }

    @Test
    void safetensorsFixtureHoldsSmallCnnsStateDictWithFc1InHalfPrecision() {
        Map<String, HostTensor> w = Weights.safetensors(fixture("cnn.safetensors"));
        assertEquals(new SmallCnn().namedParameters().keySet(), w.keySet());
        assertEquals(Shape.of(128, 64 * 6 * 6), w.get("fc1.weight").shape());
        // fc1.weight is stored as F16 (see the script); read back, each value is exactly a half.
        for (float v : w.get("fc1.weight").data()) assertEquals(v, Float.float16ToFloat(Float.floatToFloat16(v)));
        // The rest is F32, so some value there is not a half.
        boolean anyNotHalf = false;
        for (float v : w.get("conv2.weight").data()) anyNotHalf |= v != Float.float16ToFloat(Float.floatToFloat16(v));
        assertTrue(anyNotHalf, "conv2.weight looks half-precision, expected F32");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("npyFixtures")
    void namesParametersInPyTorchsStateDictOrder(String name, Supplier<Module> factory) throws IOException {
        List<String> pytorch = Files.readAllLines(fixture(name + "/state_dict.txt")).stream()
                .filter(k -> !k.endsWith("num_batches_tracked"))  // a training counter Kiln has no use for
                .toList();
        assertEquals(pytorch, List.copyOf(factory.get().namedParameters().keySet()));
    }

    @Test
    void smallCnnNamesParametersInPyTorchsStateDictOrder() throws IOException {
        assertEquals(Files.readAllLines(fixture("cnn/state_dict.txt")), List.copyOf(new SmallCnn().namedParameters().keySet()));
    }

    // ---- every built-in example at its demo size ----

    static Stream<Arguments> examples() {
        Map<String, Shape> outputs = Map.of(
                "dwsep", Shape.of(1, 64, 56, 56),
                "mobilenet", Shape.of(1, 64, 16, 16),
                "attention", Shape.of(1, 64, 16, 16),
                "adaptive-attention", Shape.of(1, 64, 16, 16),
                "generator", Shape.of(1, 3, 32, 32),
                "cnn", Shape.of(1, 10),
                "lstm", Shape.of(1, 10),
                "seq-attention", Shape.of(1, 128, 64),
                "seq-attention-general", Shape.of(1, 128, 64));
        assertEquals(outputs.keySet(), Examples.all().stream().map(Examples.Example::name).collect(java.util.stream.Collectors.toSet()),
                "a new example needs its expected output shape here");
        return Examples.all().stream().map(e -> Arguments.of(e.name(), e, outputs.get(e.name())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void exampleTracesVerifiesAndRunsToAFiniteOutputOfTheExpectedShape(String name, Examples.Example example, Shape output) {
        Module model = example.model().get().initialize(7);
        Graph g = Verifier.verify(Tracer.trace(model, example.inputShape().dims()));
        assertEquals(List.of(example.inputShape()), g.inputs().stream().map(v -> v.type().shape()).toList());
        assertEquals(output, g.typeOf(g.outputs().getFirst()).shape());
        // Every parameter is a graph constant under its state_dict name, with the model's data.
        model.namedParameters().forEach((k, p) -> assertSame(p.value(), g.weight(k), k));

        HostTensor y = ReferenceInterpreter.run(g, HostTensor.normal(example.inputShape(), 11));
        assertEquals(output, y.shape());
        for (float v : y.data()) assertTrue(Float.isFinite(v), () -> name + " gave a non-finite output");
        assertTrue(y.maxAbsError(HostTensor.zeros(output)) > 0, name + " gave all zeros");
    }

    @Test
    void stateDictNamesLookLikePyTorchs() {
        assertTrue(Examples.byName("mobilenet").model().get().stateDict().keySet().containsAll(List.of(
                "block1.depthwise.weight", "block1.bn1.weight", "block1.bn1.bias", "block1.bn1.running_mean",
                "block1.bn1.running_var", "block1.pointwise.weight", "block3.bn2.running_var")));
        assertFalse(Examples.byName("mobilenet").model().get().stateDict().containsKey("block1.depthwise.bias"), "bias(false) convs have no bias");
        assertEquals(List.of("lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
                        "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1", "fc.weight", "fc.bias"),
                List.copyOf(Examples.byName("lstm").model().get().stateDict().keySet()));
        assertEquals(List.of("depthwise.weight", "depthwise.bias", "pointwise.weight", "pointwise.bias"),
                List.copyOf(Examples.byName("dwsep").model().get().stateDict().keySet()));
        assertEquals(List.of("net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias",
                        "net.6.weight", "net.6.bias"),
                List.copyOf(Examples.byName("generator").model().get().stateDict().keySet()));
        assertEquals(List.of("attention.query.weight", "attention.query.bias", "attention.key.weight", "attention.key.bias",
                        "attention.value.weight", "attention.value.bias"),
                List.copyOf(Examples.byName("adaptive-attention").model().get().stateDict().keySet()));
        assertTrue(Examples.byName("seq-attention-general").model().get().stateDict().containsKey("general.weight"));
        assertFalse(Examples.byName("seq-attention-general").model().get().stateDict().containsKey("general.bias"));
        assertFalse(Examples.byName("seq-attention").model().get().stateDict().keySet().stream().anyMatch(k -> k.startsWith("general")));
    }

    // ---- nodes point back at the modules that made them ----

    private static List<String> originsOf(Graph g, Class<?> op) {
        return g.nodes().stream().filter(n -> op.isInstance(n.op())).map(Node::origin).toList();
    }

    private static Graph traceExample(String name) {
        Examples.Example e = Examples.byName(name);
        return Tracer.trace(e.model().get(), e.inputShape().dims());
    }

    @Test
    void nodesCarryTheModulePathThatEmittedThemAsOrigin() {
        Graph mobilenet = traceExample("mobilenet");
        assertEquals(List.of("block1.depthwise", "block1.pointwise", "block2.depthwise", "block2.pointwise",
                "block3.depthwise", "block3.pointwise"), originsOf(mobilenet, Conv2d.class));
        assertEquals(List.of("block1.bn1", "block1.bn2", "block2.bn1", "block2.bn2", "block3.bn1", "block3.bn2"),
                originsOf(mobilenet, BatchNorm2d.class));
        // The ReLUs are called in MobileNetBlock.forward, so they belong to the block.
        assertEquals(List.of("block1", "block1", "block2", "block2", "block3", "block3"),
                mobilenet.nodes().stream().filter(n -> n.op() instanceof Unary u && u.kind() == Unary.Kind.RELU).map(Node::origin).toList());
        assertEquals("conv2d %" + mobilenet.nodes().getFirst().name() + " (block1.depthwise)", mobilenet.nodes().getFirst().describe());

        assertEquals(List.of("net.0", "net.2", "net.4", "net.6"), originsOf(traceExample("generator"), Conv2d.class));
        assertEquals(List.of("attention.query", "attention.key", "attention.value"), originsOf(traceExample("adaptive-attention"), Conv2d.class));
        Graph lstm = traceExample("lstm");
        assertEquals(List.of("lstm"), originsOf(lstm, Lstm.class));
        assertEquals(List.of("fc"), originsOf(lstm, Linear.class));
        assertEquals(List.of("query", "key", "value", "general"), originsOf(traceExample("seq-attention-general"), Linear.class));
        assertEquals(List.of("conv1", "conv2"), originsOf(traceExample("cnn"), Conv2d.class));
        assertEquals(List.of("fc1", "fc2"), originsOf(traceExample("cnn"), Linear.class));
    }

    @Test
    void everyNodeThatReadsAParameterComesFromTheModuleOwningIt() {
        for (Examples.Example e : Examples.all()) {
            Module model = e.model().get();
            Graph g = Tracer.trace(model, e.inputShape().dims());
            var params = model.namedParameters().keySet();
            int checked = 0;
            for (Node n : g.nodes())
                for (String in : n.inputs())
                    if (params.contains(in)) {
                        String owner = in.contains(".") ? in.substring(0, in.lastIndexOf('.')) : "";
                        assertEquals(owner, n.origin(), () -> e.name() + ": " + n.describe() + " reads %" + in);
                        checked++;
                    }
            assertEquals(params.size(), checked, e.name() + ": every parameter is read exactly once");
        }
    }
}
