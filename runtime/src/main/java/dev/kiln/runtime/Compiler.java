package dev.kiln.runtime;

import dev.kiln.ir.Backend;
import dev.kiln.ir.BackendUnavailableException;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.passes.PassManager;

import java.util.List;

/** Graph → specialisation: the pass pipeline, then the target's backend. */
final class Compiler {
    private Compiler() {}

    /** Optimises g with the options' pipeline (less what the target declines, if the options let it) and compiles the result for the target. */
    static Specialisation compile(Graph g, Target target, CompileOptions options) {
        long t0 = System.nanoTime();
        Backend backend = target.backend();
        PassManager pm = PassManager.of(options.passes());
        if (options.targetMayDecline()) pm.declining(backend.name(), backend.declinedFusions(target.options()));
        if (!options.dumpIrAfter().isEmpty()) {
            if (options.dumpSink() == null) pm.dumpAfter(options.dumpIrAfter(), (pass, ir) -> System.err.print("// IR after " + pass + "\n" + ir));
            else pm.dumpAfter(options.dumpIrAfter(), options.dumpSink());
        }
        PassManager.Result r = pm.run(g);
        Executable exe = executable(r.graph(), target, options.interpretFirstCalls());
        return new Specialisation(r.graph(), r.report(), r.report().toString(), r.memoryPlan(), r.stats(),
                (System.nanoTime() - t0) / 1e6, exe);
    }

    /** Compiles an already optimised graph (from an artifact) for the target; no pass runs. */
    static Specialisation compileOptimised(Graph optimised, String fusionReportText, Target target, CompileOptions options) {
        long t0 = System.nanoTime();
        Executable exe = executable(optimised, target, options.interpretFirstCalls());
        return new Specialisation(optimised, null, fusionReportText, MemoryPlan.plan(optimised), List.of(),
                (System.nanoTime() - t0) / 1e6, exe);
    }

    /** The backend's executable, or one that interprets until it is generated and warm (the backend's absence is still an error now). */
    private static Executable executable(Graph g, Target target, boolean interpretFirstCalls) {
        Backend backend = target.backend();
        if (!interpretFirstCalls) return backend.compile(g, target.options());
        backend.unavailability().ifPresent(why -> { throw new BackendUnavailableException(why); });
        dev.kiln.ir.Verifier.verify(g);
        return new TieredExecutable(g, () -> backend.compile(g, target.options()));
    }
}
