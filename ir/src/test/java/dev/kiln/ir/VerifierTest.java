package dev.kiln.ir;

import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.ir.TensorType.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerifierTest {
    private static final Unary RELU = Unary.of(Unary.Kind.RELU);

    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
    }

    private static Graph graph(List<Graph.Value> inputs, Map<String, TensorType> constants, Map<String, HostTensor> data,
                               List<Node> nodes, List<String> outputs) {
        return new Graph("g", inputs, constants, data, nodes, outputs);
    }

    private static Graph.Value in(String name, int... dims) { return new Graph.Value(name, f32(dims)); }

    // ---- ill-formed graphs ----

    @Test
    void acceptsWellFormedGraphAndReturnsIt() {
        GraphBuilder b = new GraphBuilder("g");
        String x = b.input("x", f32(1, 3));
        b.output(b.add(RELU, List.of(x), "act"));
        Graph g = b.build();
        assertSame(g, Verifier.verify(g));
        assertEquals(List.of(), Verifier.problems(g));
    }

    @Test
    void rejectsUseOfUndefinedValueNamingTheNode() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", f32(1, 2));
        b.addTyped(new Node("y", RELU, List.of("ghost"), f32(1, 2), "head.act"));
        Graph g = b.output("y").build();
        KilnException e = assertThrows(KilnException.class, () -> Verifier.verify(g));
        assertEquals(KilnException.class, e.getClass());
        assertEquals("graph @g is ill-formed: unary %y (head.act) uses %ghost, which is not defined before it", e.getMessage());
    }

    @Test
    void rejectsUseBeforeDefinition() {
        Graph g = graph(List.of(in("x", 2)), Map.of(), Map.of(),
                List.of(new Node("a", RELU, List.of("b"), f32(2), "first"), new Node("b", RELU, List.of("x"), f32(2), "second")),
                List.of("a"));
        KilnException e = assertThrows(KilnException.class, () -> Verifier.verify(g));
        assertMentions(e, "unary %a (first) uses %b, which is not defined before it");
    }

    @Test
    void rejectsRecordedTypeThatDisagreesWithTheOp() {
        GraphBuilder b = new GraphBuilder("g");
        String x = b.input("x", f32(1, 3, 5, 5));
        String w = b.declareConstant("w", f32(4, 3, 3, 3), null);
        b.addTyped(new Node("c", Conv2d.of(0, 1), List.of(x, w), f32(1, 4, 5, 5), "stem.conv"));
        Graph g = b.output("c").build();
        ShapeException e = assertThrows(ShapeException.class, () -> Verifier.verify(g));
        assertMentions(e, "graph @g is ill-formed: conv2d %c (stem.conv) has recorded type f32[1,4,5,5]",
                "operands [f32[1,3,5,5], f32[4,3,3,3]] give type f32[1,4,3,3]");
    }

    @Test
    void rejectsOperandsTheOpCannotTake() {
        GraphBuilder b = new GraphBuilder("g");
        String a = b.input("a", f32(2, 3));
        String w = b.declareConstant("w", f32(4, 5), null);
        b.addTyped(new Node("m", new MatMul(), List.of(a, w), f32(2, 5), "head.fc"));
        Graph g = b.output("m").build();
        ShapeException e = assertThrows(ShapeException.class, () -> Verifier.verify(g));
        assertMentions(e, "mat_mul %m (head.fc) has operands of the wrong type", "f32[2,3]", "f32[4,5]", "3 vs 4");
    }

    @Test
    void rejectsDuplicateNames() {
        KilnException inputs = assertThrows(KilnException.class, () -> Verifier.verify(
                graph(List.of(in("x", 2), in("x", 3)), Map.of(), Map.of(), List.of(), List.of("x"))));
        assertMentions(inputs, "input %x is defined twice");

        KilnException constant = assertThrows(KilnException.class, () -> Verifier.verify(
                graph(List.of(in("x", 2)), Map.of("x", f32(2)), Map.of(), List.of(), List.of("x"))));
        assertMentions(constant, "constant %x is defined twice");

        KilnException node = assertThrows(KilnException.class, () -> Verifier.verify(graph(List.of(in("x", 2)), Map.of(), Map.of(),
                List.of(new Node("y", RELU, List.of("x"), f32(2), "one"), new Node("y", RELU, List.of("x"), f32(2), "two")),
                List.of("y"))));
        assertMentions(node, "unary %y (two) redefines %y");

        KilnException shadow = assertThrows(KilnException.class, () -> Verifier.verify(graph(List.of(in("x", 2)), Map.of(), Map.of(),
                List.of(new Node("x", RELU, List.of("x"), f32(2), "")), List.of("x"))));
        assertMentions(shadow, "unary %x redefines %x");
    }

    @Test
    void rejectsGraphWithoutOutputs() {
        GraphBuilder b = new GraphBuilder("empty");
        b.add(RELU, List.of(b.input("x", f32(1))), "act");
        KilnException e = assertThrows(KilnException.class, () -> Verifier.verify(b.build()));
        assertEquals("graph @empty is ill-formed: graph has no outputs", e.getMessage());
    }

    @Test
    void rejectsUndefinedOutputAndMismatchedConstantData() {
        KilnException out = assertThrows(KilnException.class, () -> Verifier.verify(
                graph(List.of(in("x", 2)), Map.of(), Map.of(), List.of(), List.of("nope"))));
        assertMentions(out, "output %nope is not defined");

        ShapeException data = assertThrows(ShapeException.class, () -> Verifier.verify(
                graph(List.of(in("x", 2)), Map.of("w", f32(2, 2)), Map.of("w", HostTensor.zeros(4)), List.of(), List.of("x"))));
        assertMentions(data, "constant %w declared f32[2,2] but bound to data of type f32[4]");
    }

    @Test
    void reportsFirstProblemAndCountsTheRest() {
        Graph g = graph(List.of(in("x", 2)), Map.of(), Map.of(),
                List.of(new Node("y", RELU, List.of("ghost"), f32(2), "a"), new Node("z", RELU, List.of("x"), f32(3), "b")),
                List.of());
        List<String> problems = Verifier.problems(g);
        assertEquals(3, problems.size(), problems.toString());
        assertMentions(new KilnException(problems.get(1)), "unary %z (b) has recorded type f32[3] but its operands [f32[2]] give type f32[2]");
        KilnException e = assertThrows(KilnException.class, () -> Verifier.verify(g));
        assertMentions(e, "unary %y (a) uses %ghost", "(and 2 more)");
    }

    // ---- GraphBuilder infers types as it goes, so a bad shape fails at the node that caused it ----

    private static ShapeException addFails(Op op, TensorType a, TensorType b, String origin) {
        GraphBuilder g = new GraphBuilder("g");
        String x = g.input("x", a);
        String w = g.declareConstant("w", b, null);
        return assertThrows(ShapeException.class, () -> g.add(op, List.of(x, w), origin));
    }

    @Test
    void convWeightWithWrongInputChannelsNamesOriginAndBothShapes() {
        ShapeException e = addFails(Conv2d.of(1, 1), f32(1, 3, 8, 8), f32(16, 4, 3, 3), "stem.conv");
        assertMentions(e, "at stem.conv (%t0): conv2d", "f32[16,4,3,3]", "f32[1,3,8,8]", "needs 3 input channels");
    }

    @Test
    void groupsThatDoNotDivideChannelsAreRejected() {
        ShapeException e = addFails(Conv2d.of(1, 2), f32(1, 3, 8, 8), f32(4, 1, 3, 3), "block.dw");
        assertMentions(e, "at block.dw", "groups=2", "f32[1,3,8,8]", "f32[4,1,3,3]");
    }

    @Test
    void matMulInnerDimensionMismatchNamesOriginAndBothShapes() {
        ShapeException e = addFails(new MatMul(), f32(2, 3, 7), f32(6, 5), "attn.qk");
        assertMentions(e, "at attn.qk (%t0): mat_mul", "f32[2,3,7]", "f32[6,5]", "7 vs 6");
    }

    @Test
    void linearFeatureMismatchNamesOriginAndBothShapes() {
        ShapeException e = addFails(new Linear(), f32(2, 7), f32(10, 8), "classifier");
        assertMentions(e, "at classifier (%t0): linear", "input features 7 of f32[2,7]", "weight f32[10,8]");
    }

    @Test
    void binaryShapesThatDoNotBroadcastAreNamed() {
        ShapeException e = addFails(new Binary(Binary.Kind.ADD), f32(2, 3), f32(4), "residual");
        assertMentions(e, "at residual", "[2, 3] and [4] do not broadcast");
    }

    @Test
    void concatOffAxisMismatchIsNamed() {
        ShapeException e = addFails(new Concat(1), f32(1, 2, 5), f32(1, 3, 4), "cat");
        assertMentions(e, "at cat", "differ off axis 1", "f32[1,2,5]", "f32[1,3,4]");
    }

    @Test
    void namedNodeWithoutOriginIsStillNamed() {
        GraphBuilder b = new GraphBuilder("g");
        String a = b.input("a", f32(2, 3));
        String w = b.input("w", f32(4, 5));
        ShapeException e = assertThrows(ShapeException.class, () -> b.add("logits", new MatMul(), List.of(a, w), null));
        assertMentions(e, "(%logits)", "f32[2,3]", "f32[4,5]");
    }

    @Test
    void builderRejectsUndefinedOperandsAndDuplicateDefinitions() {
        GraphBuilder b = new GraphBuilder("g");
        b.input("x", f32(2));
        KilnException undefined = assertThrows(KilnException.class, () -> b.add("y", RELU, List.of("ghost"), "head"));
        assertMentions(undefined, "graph @g: node %y (head) uses undefined value %ghost");
        KilnException twice = assertThrows(KilnException.class, () -> b.input("x", f32(3)));
        assertMentions(twice, "value %x is defined twice");
        KilnException output = assertThrows(KilnException.class, () -> b.output("nope"));
        assertMentions(output, "output %nope is not defined");
    }

    @Test
    void weightsMustMatchTheirDeclaration() {
        GraphBuilder b = new GraphBuilder("g");
        String x = b.input("x", f32(2, 3));
        String w = b.declareConstant("w", f32(4, 3), null);
        Graph g = b.output(b.add(new Linear(), List.of(x, w), "fc")).build();
        Map<String, HostTensor> wrong = new LinkedHashMap<>();
        wrong.put("w", HostTensor.zeros(3, 4));
        assertMentions(assertThrows(ShapeException.class, () -> g.withWeights(wrong)), "constant %w is declared f32[4,3] but the data is f32[3,4]");
        assertMentions(assertThrows(KilnException.class, () -> g.withWeights(Map.of("v", HostTensor.zeros(1)))), "declares no constant %v");
        assertMentions(assertThrows(ShapeException.class, () -> b.declareConstant("u", f32(2), HostTensor.zeros(3))),
                "constant %u declared f32[2] but its data is f32[3]");
    }
}
