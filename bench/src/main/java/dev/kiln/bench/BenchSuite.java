package dev.kiln.bench;

import dev.kiln.ir.Backend;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Runs every benchmark in one go and prints the README's tables: GFLOP/s against the measured
 * FMA peak, and ratios measured side by side (fused vs unfused, OpenCL vs CPU, Kiln vs ONNX
 * Runtime). Usage: java -jar bench/target/benchmarks.jar is plain JMH; this is
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * dev.kiln.bench.BenchSuite [out.md] [quick].
 */
public final class BenchSuite {
    private final StringBuilder md = new StringBuilder();
    private final boolean quick, opencl;

    private BenchSuite(boolean quick) {
        this.quick = quick;
        boolean cl = false;
        for (Backend b : ServiceLoader.load(Backend.class)) if (b.name().equals("opencl") && b.isAvailable()) cl = true;
        this.opencl = cl;
    }

    public static void main(String[] args) throws RunnerException, IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "bench/results.md");
        BenchSuite s = new BenchSuite(args.length > 1 && args[1].equals("quick"));
        s.md.append("Measured ").append(java.time.LocalDate.now()).append(" on ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, JDK ").append(System.getProperty("java.version")).append("; mean ± 99.9% CI of JMH iterations.\n\n");
        double peak1 = s.peak();
        s.gemm(peak1);
        s.dwpw();
        s.attention();
        s.models();
        s.onnxRuntime();
        s.compileTime();
        Files.writeString(out, s.md.toString());
        System.out.println(s.md);
    }

    private Collection<RunResult> run(String regex, Map<String, String[]> params) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder().include(regex).shouldFailOnError(true);
        if (quick) o = o.warmupIterations(2).measurementIterations(3);
        for (var e : params.entrySet()) o = o.param(e.getKey(), e.getValue());
        return new Runner(o.build()).run();
    }

    private String[] backends() { return opencl ? new String[]{"cpu", "opencl"} : new String[]{"cpu"}; }

    private static double score(RunResult r) { return r.getPrimaryResult().getScore(); }
    private static double error(RunResult r) { return r.getPrimaryResult().getScoreError(); }
    private static String p(RunResult r, String name) { return r.getParams().getParam(name); }

    private double peak() throws RunnerException {
        double p1 = 0, p2 = 0;
        for (RunResult r : run(FmaPeakBenchmark.class.getSimpleName(), Map.of())) {
            double g = score(r) * FmaPeakBenchmark.FLOPS_PER_OP / 1e9;
            if (r.getParams().getBenchmark().endsWith("oneThread")) p1 = g; else p2 = g;
        }
        md.append("### FMA peak through the Vector API\n\n| threads | GFLOP/s |\n|---|---|\n")
                .append(String.format("| 1 | %.0f |%n| 2 | %.0f |%n%n", p1, p2));
        peak2 = p2;
        return p1;
    }

    private double peak2;

    private void gemm(double peak1) throws RunnerException {
        md.append("### GEMM (2 threads)\n\n| n | form | ms | GFLOP/s | of 2-thread peak |\n|---|---|---|---|---|\n");
        for (RunResult r : run(GemmBenchmark.class.getSimpleName(), Map.of())) {
            double n = Double.parseDouble(p(r, "size")), gf = 2 * n * n * n / (score(r) * 1e-3) / 1e9;
            md.append(String.format("| %s | %s | %.3f ± %.3f | %.0f | %.0f%% |%n", p(r, "size"), p(r, "form"), score(r), error(r), gf, 100 * gf / peak2));
        }
        md.append('\n');
    }

    private void dwpw() throws RunnerException {
        Map<String, Double> t = new LinkedHashMap<>();
        Collection<RunResult> rs = run(DwPwBenchmark.class.getSimpleName(), Map.of("backend", backends()));
        md.append("### Depthwise 3×3 + pointwise 1×1 (2 threads)\n\n| C→O @ H×W | backend | fused µs | unfused µs | fused speed-up | fused GFLOP/s |\n|---|---|---|---|---|---|\n");
        for (RunResult r : rs) t.put(p(r, "shape") + "/" + p(r, "backend") + "/" + p(r, "variant"), score(r));
        for (RunResult r : rs) {
            if (!p(r, "variant").equals("fused")) continue;
            String[] s = p(r, "shape").split("x");
            double c = Double.parseDouble(s[0]), o = Double.parseDouble(s[1]), hw = Double.parseDouble(s[2]);
            double flops = 2 * c * hw * hw * (9 + o);
            double un = t.get(p(r, "shape") + "/" + p(r, "backend") + "/unfused");
            md.append(String.format("| %s→%s @ %s² | %s | %.1f ± %.1f | %.1f | %.2f× | %.0f |%n", s[0], s[1], s[2], p(r, "backend"),
                    score(r), error(r), un, un / score(r), flops / (score(r) * 1e-6) / 1e9));
        }
        md.append('\n');
    }

    private void attention() throws RunnerException {
        Map<String, Double> t = new LinkedHashMap<>();
        Collection<RunResult> rs = run(AttentionBenchmark.class.getSimpleName(), Map.of("backend", backends()));
        md.append("### Attention softmax(QKᵀ/√d)V, d = 64 (2 threads)\n\n| N | backend | fused ms | unfused ms | fused speed-up | fused GFLOP/s |\n|---|---|---|---|---|---|\n");
        for (RunResult r : rs) t.put(p(r, "n") + "/" + p(r, "backend") + "/" + p(r, "variant"), score(r));
        for (RunResult r : rs) {
            if (!p(r, "variant").equals("fused")) continue;
            double n = Double.parseDouble(p(r, "n")), un = t.get(p(r, "n") + "/" + p(r, "backend") + "/unfused");
            md.append(String.format("| %s | %s | %.3f ± %.3f | %.3f | %.2f× | %.0f |%n", p(r, "n"), p(r, "backend"), score(r), error(r), un,
                    un / score(r), 4 * n * n * 64 / (score(r) * 1e-3) / 1e9));
        }
        md.append('\n');
    }

    private void models() throws RunnerException {
        Collection<RunResult> rs = run(ModelBenchmark.class.getSimpleName(), Map.of("backend", backends()));
        Map<String, Double> cpu = new LinkedHashMap<>();
        for (RunResult r : rs) if (p(r, "backend").equals("cpu")) cpu.put(p(r, "model"), score(r));
        md.append("### Target models end to end, batch 1 (2 threads)\n\n| model | backend | µs | vs cpu |\n|---|---|---|---|\n");
        for (RunResult r : rs)
            md.append(String.format("| %s | %s | %.1f ± %.1f | %.2f× |%n", p(r, "model"), p(r, "backend"), score(r), error(r), score(r) / cpu.get(p(r, "model"))));
        md.append('\n');
    }

    private void onnxRuntime() throws RunnerException {
        Collection<RunResult> rs = run(OnnxRuntimeBenchmark.class.getSimpleName(), Map.of());
        Map<String, Double> ort = new LinkedHashMap<>();
        for (RunResult r : rs) if (p(r, "engine").equals("ort")) ort.put(p(r, "model"), score(r));
        md.append("### Kiln vs ONNX Runtime 1.20 on the same .onnx (CPU, 2 intra-op threads)\n\n| model | Kiln µs | ORT µs | Kiln speed-up |\n|---|---|---|---|\n");
        for (RunResult r : rs) {
            if (!p(r, "engine").equals("kiln")) continue;
            double o = ort.get(p(r, "model"));
            md.append(String.format("| %s | %.1f ± %.1f | %.1f | %.2f× |%n", p(r, "model"), score(r), error(r), o, o / score(r)));
        }
        md.append('\n');
    }

    private void compileTime() throws RunnerException {
        md.append("### Compile time in a fresh JVM: trace → passes → codegen → first run (cpu)\n\n| model | ms |\n|---|---|\n");
        for (RunResult r : run(CompileTimeBenchmark.class.getSimpleName(), Map.of()))
            md.append(String.format("| %s | %.0f ± %.0f |%n", p(r, "model"), score(r), error(r)));
        md.append('\n');
    }
}
