package dev.kiln.runtime.cli;

import dev.kiln.ir.Backend;
import dev.kiln.runtime.Kiln;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code kiln doctor}: what Kiln sees of this machine — the JDK, the CPU and its SIMD flags, and
 * each backend's own facts (Vector API width, whether C2 is on; OpenCL devices and their limits,
 * the program cache). The first thing to ask a user who reports a problem. Always exits 0: a
 * missing backend is a finding, not a failure.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true, description = "Show what Kiln sees of this machine: JDK, CPU, backends.")
final class DoctorCommand implements Callable<Integer> {
    @ParentCommand KilnCli root;
    @Spec CommandSpec spec;

    /** The flags that decide how fast the Vector API can go on x86 and ARM. */
    static final Set<String> SIMD_FLAGS = Set.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
            "avx512dq", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd", "sve", "sve2");

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("kiln %s%n", Kiln.VERSION);
        out.printf("java: %s %s (%s), %s%n", System.getProperty("java.vm.name"), Runtime.version(),
                System.getProperty("java.vm.vendor"), System.getProperty("java.home"));
        out.printf("os: %s %s on %s, %d processors, max heap %d MiB%n", System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        out.println(cpu(Path.of("/proc/cpuinfo")));
        List<Backend> backends = root.backends().all().stream()
                .sorted(Comparator.comparing((Backend b) -> !b.name().equals("cpu")).thenComparing(Backend::name)).toList();
        for (Backend b : backends) {
            out.printf("backend %s: %s%n", b.name(), b.isAvailable() ? "available" : "unavailable");
            for (String fact : b.facts()) out.println("  " + fact);
        }
        return KilnCli.OK;
    }

    /** "cpu: <model name>; SIMD: avx2 avx512f ..." from /proc/cpuinfo, or what is known without it. */
    static String cpu(Path cpuinfo) {
        if (!Files.isReadable(cpuinfo)) return "cpu: " + System.getProperty("os.arch") + " (no " + cpuinfo + " to read its model and flags)";
        try {
            List<String> lines = Files.readAllLines(cpuinfo);
            String model = field(lines, "model name");
            if (model == null) model = field(lines, "CPU part");
            String flags = field(lines, "flags");
            if (flags == null) flags = field(lines, "Features");
            Set<String> simd = new TreeSet<>();
            if (flags != null) for (String f : flags.split("\\s+")) if (SIMD_FLAGS.contains(f)) simd.add(f);
            return "cpu: " + (model == null ? "unknown model" : model) + "; SIMD: " + (simd.isEmpty() ? "none of " + new TreeSet<>(SIMD_FLAGS) : String.join(" ", simd));
        } catch (IOException e) {
            return "cpu: cannot read " + cpuinfo + ": " + e.getMessage();
        }
    }

    private static String field(List<String> lines, String key) {
        for (String l : lines) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).strip().equals(key)) return l.substring(colon + 1).strip();
        }
        return null;
    }
}
