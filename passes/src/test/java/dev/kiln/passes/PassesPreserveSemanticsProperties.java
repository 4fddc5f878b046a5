package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Verifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static dev.kiln.passes.FusionReport.Kind.NOT_POINTWISE;
import static dev.kiln.passes.FusionReport.Kind.ORDER;
import static dev.kiln.passes.FusionReport.Kind.SECOND_CONSUMER;
import static dev.kiln.passes.FusionReport.Kind.SHAPE_MISMATCH;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every pass on its own, and the default pipeline, leaves what a graph computes unchanged and
 * the graph well formed, over random graphs full of the patterns the passes rewrite and of
 * near-misses they must leave alone (see {@link PatternGraphs}). A failure names the seed,
 * the pass and both graphs as text IR; -Dkiln.seed=N replays one seed, -Dkiln.tries=N
 * changes how many are tried (200 by default).
 */
class PassesPreserveSemanticsProperties {
    static final int TRIES = Integer.getInteger("kiln.tries", 200);
    static final String DEFAULT_PIPELINE = "default pipeline";

    static long[] seeds() {
        Long one = Long.getLong("kiln.seed");
        return one != null ? new long[]{one} : LongStream.range(0, TRIES).toArray();
    }

    static Stream<String> rewrites() {
        return Stream.concat(Passes.all().stream().map(Pass::name), Stream.of(DEFAULT_PIPELINE));
    }

    /** The graph after the named pass (or the whole default pipeline, which verifies after each pass itself). */
    static Graph apply(String rewrite, Graph g, PassContext ctx) {
        if (rewrite.equals(DEFAULT_PIPELINE)) return PassManager.defaults().run(g).graph();
        return Passes.byName(rewrite).run(g, ctx);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rewrites")
    void preservesWhatTheGraphComputes(String rewrite) {
        for (long seed : seeds()) {
            Graph before = PatternGraphs.generate(seed);
            Graph after;
            try {
                after = apply(rewrite, before, new PassContext());
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + rewrite + " threw " + e + "\n--- before\n" + before, e);
            }
            List<String> problems = Verifier.problems(after);
            if (!problems.isEmpty())
                fail("seed " + seed + ": " + rewrite + " made an ill-formed graph: " + problems + "\n--- before\n" + before + "--- after\n" + after);
            String diff = Equivalence.difference(before, after, PatternGraphs.inputsFor(before, seed));
            if (diff != null)
                fail("seed " + seed + ": " + rewrite + " changed what the graph computes: " + diff + "\n--- before\n" + before + "--- after\n" + after);
        }
    }

    record NearMiss(String pass, FusionReport.Kind kind, String detail) {
        boolean matches(FusionReport.Decision d) { return d.pass().equals(pass) && d.kind() == kind && d.detail().contains(detail); }
    }

    /**
     * The generator is only as good as what it makes the passes do: over 200 graphs each rewrite
     * must fire, and each near-miss must be met and refused for its reason.
     */
    @Test
    void generatedGraphsExerciseEveryRewriteAndNearMiss() {
        Map<String, Integer> fired = new TreeMap<>(), refusals = new TreeMap<>();
        List<FusionReport.Decision> refused = new ArrayList<>();
        for (long seed = 0; seed < 200; seed++) {
            Graph g = PatternGraphs.generate(seed);
            for (Pass p : Passes.all()) {
                PassContext ctx = new PassContext();
                ctx.enter(p.name());
                Graph after = p.run(g, ctx);
                boolean changed = !after.toString().equals(g.toString());
                if (changed) fired.merge(p.name(), 1, Integer::sum);
                for (var d : ctx.report().refused()) {
                    refusals.merge(p.name() + " " + d.kind(), 1, Integer::sum);
                    refused.add(d);
                }
            }
        }
        System.out.println("rewrites that changed a graph, of 200: " + fired + "; refusals: " + refusals);
        for (Pass p : Passes.all())
            if (!p.name().equals("shape-inference"))
                assertTrue(fired.getOrDefault(p.name(), 0) > 0, p.name() + " never changed a generated graph: " + fired);
        // each near-miss by its pass and kind; the detail tells apart near-misses of one kind (the ways a conv is not pointwise)
        for (NearMiss m : List.of(new NearMiss("fold-batch-norm", SECOND_CONSUMER, ""),
                new NearMiss("fuse-depthwise-pointwise", SECOND_CONSUMER, ""), new NearMiss("fuse-depthwise-pointwise", NOT_POINTWISE, "not 1x1"),
                new NearMiss("fuse-depthwise-pointwise", NOT_POINTWISE, "has stride"), new NearMiss("fuse-depthwise-pointwise", NOT_POINTWISE, "has groups"),
                new NearMiss("fuse-depthwise-pointwise", NOT_POINTWISE, "not a pointwise conv"),
                new NearMiss("fuse-attention", SECOND_CONSUMER, ""), new NearMiss("fuse-attention", SHAPE_MISMATCH, "softmax over axis 1"),
                new NearMiss("fuse-attention", SHAPE_MISMATCH, "additive mask"), new NearMiss("fuse-attention", ORDER, ""),
                new NearMiss("fuse-residual-layer-norm", SHAPE_MISMATCH, "broadcasts")))
            assertTrue(refused.stream().anyMatch(m::matches), "no refusal " + m + " among " + refusals);
    }
}
