package dev.kiln.test.kit;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.passes.Passes;
import dev.kiln.runtime.Backends;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import dev.kiln.ir.testing.SkipOrFail;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The backends under test and how many cases each gets. cpu is always there; opencl needs an
 * OpenCL platform (PoCL in CI): without one its properties are skipped with a message, except
 * under CI (environment CI=true), where they fail. -Dkiln.backend=cpu (or opencl) restricts a
 * run to one backend. Tries: -Dkiln.tries for every backend, else -Dkiln.tries.&lt;backend&gt;,
 * else {@value #CPU_TRIES} on cpu and {@value #OPENCL_TRIES} on opencl (each OpenCL graph costs a
 * kernel build, ~0.5–1.5 s cold on PoCL, so OpenCL also gets smaller graphs: {@link #options}).
 */
public final class Targets {
    private Targets() {}

    public static final int CPU_TRIES = 200, OPENCL_TRIES = 30;
    public static final List<String> ALL = List.of("cpu", "opencl");

    /** The default pipeline without the fusions: what "unfused" means. */
    public static final List<String> UNFUSED = Passes.DEFAULT.stream().filter(p -> !p.startsWith("fuse-")).toList();

    public static Stream<String> backends() {
        String only = System.getProperty("kiln.backend");
        return ALL.stream().filter(b -> only == null || only.isBlank() || only.equals(b));
    }

    /** Graph sizes per backend: OpenCL graphs are smaller (fewer steps, no big graphs), since each costs a kernel build. */
    public static GraphGen.Options options(String backend) {
        return backend.equals("cpu") ? GraphGen.Options.DEFAULT : new GraphGen.Options(5, 1024, 0, false);
    }

    public static int tries(String backend) {
        Integer all = Integer.getInteger("kiln.tries");
        if (all != null) return all;
        return Integer.getInteger("kiln.tries." + backend, backend.equals("cpu") ? CPU_TRIES : OPENCL_TRIES);
    }

    /** The backend's target, or the test is skipped (failed under CI) when the backend cannot run here. */
    public static Target require(String name) {
        SkipOrFail.requireBackend(name);
        return Target.of(Backends.discovered().find(name).orElseThrow());
    }

    /**
     * Compiles the case's graph for the target with exactly this pass pipeline (empty: no passes),
     * fusions the backend declines included ({@link CompileOptions#withPasses}), so the fused kernels
     * a backend would not choose by default (OpenCL's fused attention) stay under test.
     */
    public static CompiledModel compile(Case c, Target t, List<String> passes) {
        return Kiln.compile(c.graph(), t, CompileOptions.defaults().withPasses(passes));
    }

    /** Compiles, runs once on the case's inputs, closes. A backend's {@link UnsupportedOpException} discards the case as a refusal. */
    public static Map<String, HostTensor> run(Case c, Target t, List<String> passes) {
        return run(c, t, passes, List.of(c.inputs())).getFirst();
    }

    /** Compiles once and runs on each set of inputs in turn (later calls see what earlier ones left behind). */
    public static List<Map<String, HostTensor>> run(Case c, Target t, List<String> passes, List<Map<String, HostTensor>> inputs) {
        try (CompiledModel m = compile(c, t, passes)) {
            return inputs.stream().map(m::run).toList();
        } catch (UnsupportedOpException e) {
            throw Discard.refusal(e);
        }
    }
}
