package dev.kiln.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.ir.HostTensor;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a user waits for in a fresh JVM, per model (bench/models/NAME.onnx): compile (import, passes,
 * code generation, classes defined), the first call, and how many calls and how much wall time
 * until the latency is within 10 % of the steady state; beside ONNX Runtime's session creation and
 * first run on the same file. A JMH single-shot fork cannot see the warm-up curve, so this is a
 * small harness of its own: {@code suite} starts a fresh JVM per sample ({@code probe}) with this
 * JVM's flags and classpath, and prints a table of medians.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:ObjectAlignmentInBytes=64 \
 *   -cp bench/target/benchmarks.jar dev.kiln.bench.ColdStart suite [samples] [model,...] [engine,...] [seconds] [gap-ms]
 * </pre>
 * Engines: {@code kiln} (no warm-up), {@code kiln-warm} ({@link CompiledModel#warmUp()} before the first
 * call; its time is reported apart), {@code kiln-bg} ({@link CompiledModel#warmUpInBackground()} right
 * after compile), {@code kiln-tiered} (first calls answered by the reference interpreter while the kernels
 * are generated and warmed in the background: {@link CompileOptions#interpretingFirstCalls}), {@code ort}. Steady state and "calls to steady" are defined as {@code kiln bench}
 * defines them: the median of the last quarter of the calls, and the first call from which the
 * median of a 5-call window is within 10 % of it.
 */
public final class ColdStart {
    static final List<String> MODELS = List.of("cnn", "mobilenet", "dwsep", "attention", "lstm");

    private ColdStart() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("probe")) {
            Sample s = probe(args[1], args[2], Double.parseDouble(args[3]), Double.parseDouble(args[4]));
            System.out.println("SAMPLE " + s.line());
            return;
        }
        int samples = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<String> models = args.length > 2 ? List.of(args[2].split(",")) : MODELS;
        List<String> engines = args.length > 3 ? List.of(args[3].split(",")) : List.of("kiln", "kiln-warm", "kiln-bg", "ort");
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 4;
        double gapMs = args.length > 5 ? Double.parseDouble(args[5]) : 0;
        suite(samples, models, engines, seconds, gapMs);
    }

    /** One fresh-JVM sample: all times in ms. */
    record Sample(double compile, double warmUp, double first, double steady, int callsToSteady, double msToSteady,
                  double worstAfterFirst, int calls) {
        String line() {
            return String.format(java.util.Locale.ROOT, "%.3f %.3f %.3f %.4f %d %.1f %.3f %d", compile, warmUp, first, steady,
                    callsToSteady, msToSteady, worstAfterFirst, calls);
        }

        static Sample parse(String s) {
            String[] f = s.trim().split(" ");
            return new Sample(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                    Integer.parseInt(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]), Integer.parseInt(f[7]));
        }
    }

    /** gapMs: idle time between calls (0: back to back; a service's caller leaves gaps, which a background warm-up uses). */
    static Sample probe(String model, String engine, double seconds, double gapMs) throws Exception {
        Path file = OnnxRuntimeBenchmark.modelFile(model);
        return engine.equals("ort") ? probeOrt(file, seconds, gapMs) : probeKiln(file, engine, seconds, gapMs);
    }

    private static Sample probeKiln(Path file, String engine, double seconds, double gapMs) {
        long t0 = System.nanoTime();
        Target target = Target.cpu().withOption("threads", "2");
        CompileOptions options = CompileOptions.defaults().interpretingFirstCalls(engine.equals("kiln-tiered"));
        try (CompiledModel m = Kiln.compileOnnx(file, target, options, Map.of())) {
            double compile = (System.nanoTime() - t0) / 1e6;
            double warm = 0;
            if (engine.equals("kiln-warm")) {
                long w0 = System.nanoTime();
                m.warmUp();
                warm = (System.nanoTime() - w0) / 1e6;
            } else if (engine.equals("kiln-bg")) m.warmUpInBackground();
            HostTensor x = HostTensor.normal(m.signature().inputs().getFirst().type().shape(), 42);
            return calls(() -> m.run(x), seconds, gapMs, compile, warm);
        }
    }

    private static Sample probeOrt(Path file, double seconds, double gapMs) throws OrtException {
        long t0 = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(2);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession session = env.createSession(file.toString(), options)) {
            double create = (System.nanoTime() - t0) / 1e6;
            var info = (ai.onnxruntime.TensorInfo) session.getInputInfo().values().iterator().next().getInfo();
            long[] shape = info.getShape();
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            HostTensor x = HostTensor.normal(dev.kiln.ir.Shape.of(Arrays.stream(shape).mapToInt(d -> (int) d).toArray()), 42);
            String name = session.getInputNames().iterator().next();
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data(), 0, n), shape)) {
                return calls(() -> {
                    try (OrtSession.Result r = session.run(Map.of(name, in))) {
                        r.get(0);
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                }, seconds, gapMs, create, 0);
            }
        }
    }

    /** Calls for the given wall time (at least 20 calls), one caller, and reads the warm-up curve off the durations. */
    private static Sample calls(Runnable call, double seconds, double gapMs, double compile, double warmUp) {
        List<Long> d = new ArrayList<>();
        long start = System.nanoTime(), end = start + (long) (seconds * 1e9);
        while (d.size() < 20 || System.nanoTime() < end) {
            long s = System.nanoTime();
            call.run();
            d.add(System.nanoTime() - s);
            if (gapMs > 0) java.util.concurrent.locks.LockSupport.parkNanos((long) (gapMs * 1e6));
        }
        double[] ms = d.stream().mapToDouble(v -> v / 1e6).toArray();
        int n = ms.length, tail = Math.max(1, n / 4);
        double steady = median(Arrays.copyOfRange(ms, n - tail, n));
        int k = n - tail;
        for (int i = 0; i + 5 <= n; i++) if (median(Arrays.copyOfRange(ms, i, i + 5)) <= steady * 1.10) { k = i; break; }
        double toSteady = 0, worst = 0;
        for (int i = 0; i < k; i++) toSteady += ms[i];
        for (int i = 1; i < n; i++) worst = Math.max(worst, ms[i]);
        return new Sample(compile, warmUp, ms[0], steady, k, toSteady, worst, n);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** With KILN_BENCH_LOCK=FILE each sample runs under flock FILE, so the machine's other users wait between samples, not during one. */
    private static void suite(int samples, List<String> models, List<String> engines, double seconds, double gapMs) throws Exception {
        List<String> jvm = new ArrayList<>();
        String lock = System.getenv("KILN_BENCH_LOCK");
        if (lock != null) jvm.addAll(List.of("flock", lock));
        jvm.add(ProcessHandle.current().info().command().orElse("java"));
        jvm.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        jvm.addAll(List.of("-cp", System.getProperty("java.class.path"), ColdStart.class.getName(), "probe"));
        System.out.printf("fresh JVMs: %d samples per row, %.0f s of calls each, %.1f ms idle between calls; JVM flags %s; %d cores%n", samples, seconds, gapMs,
                ManagementFactory.getRuntimeMXBean().getInputArguments(), Runtime.getRuntime().availableProcessors());
        System.out.println("| model | engine | compile / session ms | warmUp() ms | first call ms | steady ms | first / steady | calls to steady | ms to steady | worst later call ms |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (String model : models) {
            Map<String, List<Sample>> rows = new LinkedHashMap<>();
            for (String e : engines) rows.put(e, new ArrayList<>());
            for (int i = 0; i < samples; i++)       // engines interleaved, so a slow spell of the machine hits all of them
                for (String e : engines) rows.get(e).add(sampleIn(jvm, model, e, seconds, gapMs));
            for (var r : rows.entrySet()) {
                List<Sample> s = r.getValue();
                System.out.printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", model, r.getKey(),
                        fmt(s, Sample::compile), fmt(s, Sample::warmUp), fmt(s, Sample::first), fmt(s, Sample::steady),
                        fmt(s, x -> x.first() / x.steady()), fmt(s, x -> x.callsToSteady()), fmt(s, Sample::msToSteady),
                        fmt(s, Sample::worstAfterFirst));
            }
        }
    }

    private static Sample sampleIn(List<String> jvm, String model, String engine, double seconds, double gapMs) throws Exception {
        List<String> cmd = new ArrayList<>(jvm);
        cmd.addAll(List.of(model, engine, Double.toString(seconds), Double.toString(gapMs)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String sample = null;
        StringBuilder all = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            for (String line; (line = r.readLine()) != null; ) {
                all.append(line).append('\n');
                if (line.startsWith("SAMPLE ")) sample = line.substring(7);
            }
        }
        if (p.waitFor() != 0 || sample == null) throw new IllegalStateException(model + "/" + engine + " failed:\n" + all);
        System.err.println(model + " " + engine + " " + sample);
        return Sample.parse(sample);
    }

    /** Median, and the range over the samples. */
    private static String fmt(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f) {
        double[] v = s.stream().mapToDouble(f).sorted().toArray();
        String p = Math.abs(v[v.length / 2]) >= 100 ? "%.0f" : Math.abs(v[v.length / 2]) >= 1 ? "%.1f" : "%.3f";
        return String.format(java.util.Locale.ROOT, p + " (" + p + "–" + p + ")", median(v), v[0], v[v.length - 1]);
    }
}
