package dev.kiln.backend.opencl;

import dev.kiln.ir.Backend;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Verifier;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenCL backend: generates OpenCL C for every (fused) op of an optimised graph, with all
 * shapes, strides and buffer offsets as constants, and runs it through JOCL.
 *
 * <p>Options:
 * <ul>
 *   <li>{@code device}: which device (see {@link DeviceSelector}); else env KILN_OPENCL_DEVICE;
 *       else the first GPU, else the first CPU device.</li>
 *   <li>{@code dump-code}: a directory to write every generated kernel into, each headed by its IR node.</li>
 *   <li>{@code cache-dir}: where built program binaries are kept across JVMs (default
 *       KILN_OPENCL_CACHE, else ~/.cache/kiln/opencl); {@code off} keeps them in memory only.</li>
 *   <li>{@code tune}: {@code on} times the GEMM tiles of the CPU-device family on the device (see
 *       {@link Tuner}) and keeps the fastest in the tuning cache beside the program cache; {@code off}
 *       (the default) uses each family's defaults for the device type.</li>
 *   <li>{@code tune-budget-ms}: the most one GEMM problem's search may take (default 2000).</li>
 * </ul>
 * Any other key is an error.
 */
public final class OpenClBackend implements Backend {
    public static final String NAME = "opencl";

    @Override public String name() { return NAME; }

    /** Whether an OpenCL device is usable here. Never throws, even without an OpenCL library. */
    @Override public boolean isAvailable() { return OpenClRuntime.isAvailable(); }

    @Override public Optional<String> unavailability() { return OpenClRuntime.problem(); }

    /**
     * Fused attention ran at 0.41× the speed of its unfused ops on PoCL at N = 4096 and 0.70× at
     * 256 and 1024 (README, "Attention"): its kernel stages tiles in local memory for a GPU, which
     * PoCL runs as work-item loops. A GPU likely wants the fusion, but nobody has measured one, so
     * every device declines it for now; issue 21's autotuning should decide per device. The fused
     * kernel stays correct and reachable through a pipeline that names fuse-attention.
     */
    @Override public Map<String, String> declinedFusions(Map<String, String> options) {
        return Map.of("fuse-attention", "fused attention is slower than unfused (measured 0.41× on PoCL); not yet measured per device");
    }

    /** Every device with the limits the kernel generators read, the program cache, or why there is no device. */
    @Override public List<String> facts() {
        List<String> facts = new ArrayList<>();
        Optional<String> problem = unavailability();
        if (problem.isPresent()) {
            facts.add(problem.get());
        } else {
            for (DeviceInfo d : OpenClRuntime.devices()) {
                DeviceLimits l = d.limits();
                facts.add(String.format("device %s: %s, driver %s; %d compute units, max work-group %d, local memory %d KiB,"
                                + " preferred float vector width %d, max allocation %d MiB, global memory %d MiB; GEMM kernels: %s",
                        d.describe(), d.version().strip(), d.driverVersion().strip(), l.computeUnits(), l.maxWorkGroupSize(),
                        l.localMemBytes() >> 10, l.preferredVectorWidth(), l.maxAllocBytes() >> 20, l.globalMemBytes() >> 20,
                        GemmKernel.cpuFamily(l) ? "cpu-device (register tiles, no local memory)" : "tiled (local memory)"));
            }
        }
        Path cache = cacheDir(Map.of());
        facts.add("program cache: " + (cache == null ? "off (KILN_OPENCL_CACHE=off)" : cache));
        facts.add("tuning cache (option tune=on): " + (cache == null ? "in memory only" : cache.resolve(TuningCache.FILE)));
        return facts;
    }

    /** Every option compile reads. */
    static final List<String> OPTIONS = List.of(DeviceSelector.OPTION, "dump-code", "cache-dir", "tune", "tune-budget-ms");

    /**
     * @throws dev.kiln.ir.BackendUnavailableException without an OpenCL library or platform (the message says what to install)
     * @throws dev.kiln.ir.KilnException for an unknown option, a failed kernel build (with the build log and source) or a device out of memory
     */
    @Override public Executable compile(Graph g, Map<String, String> options) {
        // before any OpenCL call: a misspelt option is an error on a machine without a device too
        Backend.requireKnownOptions(NAME, options, OPTIONS);
        Verifier.verify(g);
        DeviceInfo info = DeviceSelector.select(OpenClRuntime.devices(), DeviceSelector.selectorFrom(options, System::getenv));
        DeviceContext device = OpenClRuntime.context(info);
        String dump = options.get("dump-code");
        DeviceLimits limits = info.limits();
        if (tuning(options)) {
            Tuner.Result t = Tuner.tune(g, device, limits, cacheDir(options), tuneBudgetMillis(options), System.err);
            if (t.report().problems() > 0) System.err.println("kiln: opencl " + t.report());
            limits = t.limits();
        }
        return OpenClExecutable.create(g, device, limits, cacheDir(options), dump == null || dump.isBlank() ? null : Path.of(dump));
    }

    static boolean tuning(Map<String, String> options) {
        String t = options.getOrDefault("tune", "off").strip().toLowerCase();
        return switch (t) {
            case "on", "true" -> true;
            case "off", "false", "" -> false;
            default -> throw new dev.kiln.ir.KilnException("opencl option tune=" + t + ": expected on or off");
        };
    }

    static long tuneBudgetMillis(Map<String, String> options) {
        String v = options.getOrDefault("tune-budget-ms", "2000").strip();
        try {
            long ms = Long.parseLong(v);
            if (ms >= 1) return ms;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new dev.kiln.ir.KilnException("opencl option tune-budget-ms=" + v + ": expected a positive number of milliseconds");
    }

    static Path cacheDir(Map<String, String> options) {
        String dir = options.get("cache-dir");
        if (dir == null || dir.isBlank()) dir = System.getenv("KILN_OPENCL_CACHE");
        if (dir != null && dir.strip().equalsIgnoreCase("off")) return null;
        if (dir != null && !dir.isBlank()) return Path.of(dir.strip());
        return Path.of(System.getProperty("user.home"), ".cache", "kiln", "opencl");
    }
}
