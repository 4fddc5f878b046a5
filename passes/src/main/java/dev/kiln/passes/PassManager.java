package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Verifier;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Runs a pipeline of passes, verifying the graph after each one (a pass that breaks the graph
 * is named in the error), optionally dumping the IR after chosen passes, and collecting the
 * fusion report, per-pass timings and the memory plan of the result. Passes the target's
 * backend declines ({@link #declining}) do not run; the report shows where they would have fired.
 */
public final class PassManager {
    /** One pass that ran (a declined pass has none). */
    public record PassStat(String pass, double millis, int nodesBefore, int nodesAfter) {}

    public record Result(Graph graph, FusionReport report, MemoryPlan memoryPlan, List<PassStat> stats) {}

    private final List<Pass> pipeline;
    private Set<String> dumpAfter = Set.of();
    private BiConsumer<String, String> dumpSink = (pass, ir) -> System.err.print("// IR after " + pass + "\n" + ir);
    private String decliner = "";
    private Map<String, String> declined = Map.of();

    public PassManager(List<Pass> pipeline) { this.pipeline = List.copyOf(pipeline); }

    /** The default pipeline (see {@link Passes#DEFAULT}). */
    public static PassManager defaults() { return new PassManager(Passes.defaultPipeline()); }

    /** A pipeline of passes by name, e.g. "fold-batch-norm,fuse-epilogues". */
    public static PassManager of(List<String> names) { return new PassManager(names.stream().map(Passes::byName).toList()); }

    public List<Pass> pipeline() { return pipeline; }

    /** Dump the IR after the named passes ("all" for every pass) to sink(passName, irText). */
    public PassManager dumpAfter(Set<String> passes, BiConsumer<String, String> sink) {
        for (String p : passes) if (!p.equals("all")) Passes.byName(p);
        this.dumpAfter = Set.copyOf(passes);
        this.dumpSink = sink;
        return this;
    }

    /**
     * Skip the named passes, each for its reason, because the named backend does not want
     * them (a fusion slower there than its parts). Where a skipped pass would have fired, the report
     * records a {@link FusionReport.Kind#DECLINED_BY_BACKEND} decision saying so.
     */
    public PassManager declining(String backend, Map<String, String> reasonsByPass) {
        for (String p : reasonsByPass.keySet()) Passes.byName(p);
        this.decliner = backend;
        this.declined = Map.copyOf(reasonsByPass);
        return this;
    }

    public Result run(Graph g) {
        Verifier.verify(g);
        PassContext ctx = new PassContext();
        List<PassStat> stats = new ArrayList<>();
        for (Pass p : pipeline) {
            String why = declined.get(p.name());
            if (why != null) {
                reportDeclined(p, g, ctx, "declined by the " + decliner + " backend: " + why);
                continue;
            }
            ctx.enter(p.name());
            long t0 = System.nanoTime();
            Graph next = p.run(g, ctx);
            double ms = (System.nanoTime() - t0) / 1e6;
            try {
                Verifier.verify(next);
            } catch (KilnException e) {
                throw new KilnException("pass " + p.name() + " produced an ill-formed graph: " + e.getMessage(), e);
            }
            stats.add(new PassStat(p.name(), ms, g.nodes().size(), next.nodes().size()));
            g = next;
            if (dumpAfter.contains("all") || dumpAfter.contains(p.name())) dumpSink.accept(p.name(), IrPrinter.print(g));
        }
        return new Result(g, ctx.report(), MemoryPlan.plan(g), stats);
    }

    /** A user who sees a fusion missing should find why, at the node where it would have been: run the pass aside and keep only that. */
    private static void reportDeclined(Pass p, Graph g, PassContext ctx, String why) {
        PassContext aside = new PassContext();
        aside.enter(p.name());
        p.run(g, aside);
        for (FusionReport.Decision d : aside.report().fused()) ctx.declined(p.name(), d.where(), why);
    }
}
