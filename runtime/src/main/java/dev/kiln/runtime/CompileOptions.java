package dev.kiln.runtime;

import dev.kiln.passes.Passes;

import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * How Kiln compiles, apart from the target: the name of a DSL model's input, how many shape
 * specialisations a model keeps, the pass pipeline, and IR dumps after chosen passes.
 *
 * @param inputName     name of the graph input when a DSL model is traced (default "x")
 * @param cacheCapacity shape specialisations kept per model; the least recently used beyond it are released
 * @param passes        pass names in order (default {@link Passes#DEFAULT})
 * @param targetMayDecline whether the target's backend may skip fusions of this pipeline it declines
 *                      ({@link dev.kiln.ir.Backend#declinedFusions}): true for the default pipeline; a
 *                      pipeline chosen with {@link #withPasses} runs as chosen
 * @param dumpIrAfter   pass names ("all" for every pass) after which the IR goes to dumpSink
 * @param dumpSink      receives (pass name, IR text); null prints to stderr
 * @param interpretFirstCalls whether calls run the reference interpreter while the kernels are generated and
 *                      warmed up in the background, then switch to them ({@link TieredExecutable}): a first
 *                      answer sooner, at the cost of interpreted calls until the switch; off by default
 */
public record CompileOptions(String inputName, int cacheCapacity, List<String> passes, boolean targetMayDecline,
                             Set<String> dumpIrAfter, BiConsumer<String, String> dumpSink, boolean interpretFirstCalls) {
    public static final int DEFAULT_CACHE_CAPACITY = 8;

    public CompileOptions {
        if (inputName == null || inputName.isBlank()) throw new IllegalArgumentException("input name must not be blank");
        if (cacheCapacity < 1) throw new IllegalArgumentException("cache capacity must be at least 1, got " + cacheCapacity);
        passes = List.copyOf(passes);
        dumpIrAfter = Set.copyOf(dumpIrAfter);
    }

    public static CompileOptions defaults() {
        return new CompileOptions("x", DEFAULT_CACHE_CAPACITY, Passes.DEFAULT, true, Set.of(), null, false);
    }

    public CompileOptions withInputName(String name) {
        return new CompileOptions(name, cacheCapacity, passes, targetMayDecline, dumpIrAfter, dumpSink, interpretFirstCalls);
    }

    public CompileOptions withCacheCapacity(int n) {
        return new CompileOptions(inputName, n, passes, targetMayDecline, dumpIrAfter, dumpSink, interpretFirstCalls);
    }

    /**
     * Exactly these passes, even fusions the target's backend declines: how tests reach a fused
     * kernel a backend would not choose, and how a benchmark compares fused with unfused.
     */
    public CompileOptions withPasses(List<String> names) {
        return new CompileOptions(inputName, cacheCapacity, names, false, dumpIrAfter, dumpSink, interpretFirstCalls);
    }

    public CompileOptions dumpingIrAfter(Set<String> passNames, BiConsumer<String, String> sink) {
        return new CompileOptions(inputName, cacheCapacity, passes, targetMayDecline, passNames, sink, interpretFirstCalls);
    }

    /** Calls answered by the reference interpreter until the kernels are generated and warm ({@link TieredExecutable}). */
    public CompileOptions interpretingFirstCalls(boolean on) {
        return new CompileOptions(inputName, cacheCapacity, passes, targetMayDecline, dumpIrAfter, dumpSink, on);
    }
}
