package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.FusedAttention;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kiln.passes.CheckedRewrite.parse;
import static org.junit.jupiter.api.Assertions.*;

/** The pipeline: verification after every pass (naming a pass that breaks the graph), IR dumps, statistics, pass names. */
class PassManagerTest {
    static final String ATTENTION = """
            graph @attention(%q: f32[1,3,2], %k: f32[1,4,2], %v: f32[1,4,2]) {
              %kt: f32[1,2,4] = transpose(%k) {perm=[0,2,1]}
              %s: f32[1,3,4] = mat_mul(%q, %kt)
              %p: f32[1,3,4] = softmax(%s) {axis=2}
              %o: f32[1,3,2] = mat_mul(%p, %v)
              %y: f32[1,3,2] = unary(%o) {act=relu}
              return %y
            }
            """;

    /** What a buggy pass looks like: it records the wrong type for the first node it copies. */
    static final class RecordsWrongType implements Pass {
        @Override public String name() { return "records-wrong-type"; }

        @Override public Graph run(Graph g, PassContext ctx) {
            GraphBuilder b = GraphBuilder.from(g);
            for (Node n : g.nodes())
                b.addTyped(n != g.nodes().getFirst() ? n : new Node(n.name(), n.op(), n.inputs(), TensorType.f32(7), n.origin()));
            for (String o : g.outputs()) b.output(o);
            return b.build();
        }
    }

    @Test
    void verifiesAfterEachPassAndNamesTheBrokenPass() {
        var manager = new PassManager(List.of(new ShapeInference(), new RecordsWrongType(), new DeadCodeElimination()));
        var e = assertThrows(KilnException.class, () -> manager.run(parse(ATTENTION)));
        assertTrue(e.getMessage().startsWith("pass records-wrong-type produced an ill-formed graph: "), e.getMessage());
        assertTrue(e.getMessage().contains("transpose %kt has recorded type f32[7]"), e.getMessage());
    }

    @Test
    void rejectsAnIllFormedInputBeforeAnyPassRuns() {
        Graph broken = new RecordsWrongType().run(parse(ATTENTION), new PassContext());
        var e = assertThrows(KilnException.class, () -> PassManager.defaults().run(broken));
        assertFalse(e.getMessage().startsWith("pass "), "no pass is to blame: " + e.getMessage());
        assertTrue(e.getMessage().contains("%kt"), e.getMessage());
    }

    @Test
    void dumpsIrAfterTheNamedPass() {
        List<String> passes = new ArrayList<>(), dumps = new ArrayList<>();
        PassManager.defaults().dumpAfter(Set.of("fuse-attention"), (pass, ir) -> { passes.add(pass); dumps.add(ir); }).run(parse(ATTENTION));
        assertEquals(List.of("fuse-attention"), passes);
        assertTrue(dumps.getFirst().contains("= fused_attention(%q, %k, %v)"), dumps.getFirst());
        assertTrue(dumps.getFirst().contains("= unary(%o) {act=relu}"), "the dump is taken before epilogue fusion: " + dumps.getFirst());
        assertEquals(dumps.getFirst(), IrParser.parse(dumps.getFirst()).toString(), "a dump is text IR that parses back");
    }

    @Test
    void dumpsIrAfterEveryPassWithAll() {
        List<String> passes = new ArrayList<>();
        PassManager.defaults().dumpAfter(Set.of("all"), (pass, ir) -> passes.add(pass)).run(parse(ATTENTION));
        assertEquals(Passes.DEFAULT, passes);
    }

    @Test
    void unknownPassNameIsAnErrorListingTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> PassManager.of(List.of("dce", "fuse-everything")));
        assertTrue(e.getMessage().startsWith("unknown pass 'fuse-everything'; known: [shape-inference, "), e.getMessage());
        var dump = assertThrows(IllegalArgumentException.class, () -> PassManager.defaults().dumpAfter(Set.of("fuse-all"), (p, ir) -> {}));
        assertTrue(dump.getMessage().startsWith("unknown pass 'fuse-all'"), dump.getMessage());
    }

    @Test
    void recordsStatisticsForEveryPassInOrder() {
        var result = PassManager.defaults().run(parse(ATTENTION));
        assertEquals(Passes.DEFAULT, result.stats().stream().map(PassManager.PassStat::pass).toList());
        assertEquals(5, result.stats().getFirst().nodesBefore());
        for (int i = 1; i < result.stats().size(); i++)
            assertEquals(result.stats().get(i - 1).nodesAfter(), result.stats().get(i).nodesBefore(), "stats chain from pass to pass");
        assertEquals(1, result.stats().getLast().nodesAfter(), "attention with its relu is one node: " + result.graph());
    }

    @Test
    void resultCarriesTheReportAndTheMemoryPlan() {
        var result = PassManager.defaults().run(parse(ATTENTION));
        assertEquals(1, result.report().count("fuse-attention"));
        assertEquals(1, result.report().count("fuse-epilogues"));
        assertTrue(result.report().toString().contains("2 fusions, 0 refused"), result.report()::toString);
        assertEquals(MemoryPlan.plan(result.graph()).toString(), result.memoryPlan().toString());
    }

    @Test
    void aDeclinedFusionDoesNotRunAndTheReportSaysWhereAndWhy() {
        Graph g = parse(ATTENTION);
        var result = PassManager.defaults().declining("opencl", Map.of("fuse-attention", "slower than unfused here")).run(g);
        Equivalence.assertEquivalent(g, result.graph(), 7);
        assertEquals(0, CheckedRewrite.count(result.graph(), FusedAttention.class), result.graph()::toString);
        assertFalse(result.stats().stream().anyMatch(s -> s.pass().equals("fuse-attention")), "a declined pass does not run");
        var declined = result.report().declined();
        assertEquals(1, declined.size(), result.report()::toString);
        assertEquals(FusionReport.Kind.DECLINED_BY_BACKEND, declined.getFirst().kind());
        assertEquals("fuse-attention", declined.getFirst().pass());
        assertEquals("(%o)", declined.getFirst().where(), "where the fusion would have fired");
        assertEquals("declined by the opencl backend: slower than unfused here", declined.getFirst().detail());
        assertEquals(0, result.report().count("fuse-attention"));
        assertTrue(result.report().refused().isEmpty(), "a decline is no refusal: " + result.report());
        assertTrue(result.report().toString().contains("not fused: declined by the opencl backend: slower than unfused here"), result.report()::toString);
        // the relu still joins the p·v matmul's epilogue: a matmul is an epilogue anchor too
        assertEquals(1, result.report().count("fuse-epilogues"), result.report()::toString);
        assertTrue(result.report().toString().contains("1 fusions, 0 refused, 1 declined by the backend"), result.report()::toString);
    }

    @Test
    void aDeclinedFusionThatWouldNotFireLeavesNoTrace() {
        var result = PassManager.defaults().declining("opencl", Map.of("fuse-depthwise-pointwise", "slower")).run(parse(ATTENTION));
        assertTrue(result.report().declined().isEmpty(), result.report()::toString);
        assertEquals(1, result.report().count("fuse-attention"));
    }

    @Test
    void decliningAnUnknownPassIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> PassManager.defaults().declining("opencl", Map.of("fuse-everything", "why")));
        assertTrue(e.getMessage().startsWith("unknown pass 'fuse-everything'"), e.getMessage());
    }

    @Test
    void everyPassHasOneNameAndTheDefaultPipelineNamesOnlyKnownPasses() {
        Set<String> names = new HashSet<>();
        for (Pass p : Passes.all()) {
            assertTrue(names.add(p.name()), "two passes named " + p.name());
            assertTrue(p.name().matches("[a-z]+(-[a-z]+)*"), "not kebab-case: " + p.name());
            assertSame(p.getClass(), Passes.byName(p.name()).getClass());
        }
        assertTrue(names.containsAll(Passes.DEFAULT), Passes.DEFAULT::toString);
    }
}
