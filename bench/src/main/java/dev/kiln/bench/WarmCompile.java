package dev.kiln.bench;

import dev.kiln.ir.HostTensor;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Compile time in a warm JVM, and what the second compile of a model with the same layer shapes
 * gains from kernels already defined (the cpu backend's KernelCache; off with
 * -Dkiln.cpu.kernelCache=false): per model, the first compile and first call, then after 300 calls
 * and close, a second compile and its first call, then the median of 5 more compiles.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kiln.bench.WarmCompile [model,...]
 * </pre>
 */
public final class WarmCompile {
    private WarmCompile() {}

    public static void main(String[] args) {
        List<String> models = args.length > 0 ? List.of(args[0].split(",")) : ColdStart.MODELS;
        System.out.println("| model | 1st compile ms | 1st call ms | 2nd compile ms | its 1st call ms | later compiles ms (median of 5) |");
        System.out.println("|---|---|---|---|---|---|");
        for (String model : models) {
            Path file = OnnxRuntimeBenchmark.modelFile(model);
            double[] first = compileAndCall(file, 300), second = compileAndCall(file, 1);
            double[] later = new double[5];
            for (int i = 0; i < later.length; i++) later[i] = compileAndCall(file, 1)[0];
            java.util.Arrays.sort(later);
            System.out.printf(java.util.Locale.ROOT, "| %s | %.1f | %.2f | %.1f | %.3f | %.1f |%n", model, first[0], first[1], second[0], second[1], later[2]);
        }
    }

    /** Compile ms and first-call ms, after which the model is called calls − 1 more times and closed. */
    private static double[] compileAndCall(Path file, int calls) {
        long t0 = System.nanoTime();
        try (CompiledModel m = Kiln.compileOnnx(file, Target.cpu().withOption("threads", "2"), CompileOptions.defaults(), Map.of())) {
            double compile = (System.nanoTime() - t0) / 1e6;
            HostTensor x = HostTensor.normal(m.signature().inputs().getFirst().type().shape(), 42);
            long c0 = System.nanoTime();
            m.run(x);
            double call = (System.nanoTime() - c0) / 1e6;
            for (int i = 1; i < calls; i++) m.run(x);
            return new double[]{compile, call};
        }
    }
}
