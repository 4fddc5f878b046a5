package dev.kiln.runtime;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.passes.FusionReport;
import dev.kiln.passes.PassManager;

import java.util.List;
import java.util.Optional;

/**
 * One compiled shape signature of a model: the optimised graph, what the passes did, and the
 * backend's executable (kept inside the runtime; callers run it through {@link CompiledModel}).
 */
public final class Specialisation {
    private final Graph graph;
    private final Signature signature;
    private final FusionReport fusionReport;
    private final String fusionReportText;
    private final MemoryPlan memoryPlan;
    private final List<PassManager.PassStat> passStats;
    private final double compileMillis;
    private final Executable executable;

    Specialisation(Graph graph, FusionReport fusionReport, String fusionReportText, MemoryPlan memoryPlan,
                   List<PassManager.PassStat> passStats, double compileMillis, Executable executable) {
        this.graph = graph;
        this.signature = Signature.of(graph);
        this.fusionReport = fusionReport;
        this.fusionReportText = fusionReportText;
        // the backend's plan when it has one: it includes its kernels' scratch, so it is the arena that runs
        this.memoryPlan = executable.memoryPlan().orElse(memoryPlan);
        this.passStats = List.copyOf(passStats);
        this.compileMillis = compileMillis;
        this.executable = executable;
    }

    public Signature signature() { return signature; }

    /** The optimised graph, weights bound. */
    public Graph graph() { return graph; }

    /** The optimised graph as text IR. */
    public String ir() { return IrPrinter.print(graph); }

    /** The fusion decisions, when the passes ran in this process (empty for a loaded artifact). */
    public Optional<FusionReport> fusionReport() { return Optional.ofNullable(fusionReport); }

    /** The fusion report as text; also kept by artifacts. */
    public String fusionReportText() { return fusionReportText; }

    /** Where the results (and the backend's kernel scratch) live in the arena this executable runs in. */
    public MemoryPlan memoryPlan() { return memoryPlan; }

    /** Per-pass timings and node counts (empty for a loaded artifact). */
    public List<PassManager.PassStat> passStats() { return passStats; }

    /** Wall time of passes plus backend code generation. */
    public double compileMillis() { return compileMillis; }

    Executable executable() { return executable; }
}
