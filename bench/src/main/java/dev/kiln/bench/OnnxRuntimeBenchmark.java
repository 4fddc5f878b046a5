package dev.kiln.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.frontend.onnx.OnnxImporter;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import org.openjdk.jmh.annotations.*;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The same .onnx file (bench/models, exported by tools/fixtures/make_bench_onnx.py) in Kiln's CPU
 * backend and in ONNX Runtime (CPU, all graph optimisations, the same number of intra-op
 * threads), batch 1 (and 8 for the CNN). Setup checks that both give the same output.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OnnxRuntimeBenchmark {
    @Param({"dwsep", "mobilenet", "attention", "adaptive-attention", "generator", "cnn", "cnn-b8", "lstm", "seq-attention", "seq-attention-general"})
    String model;
    @Param({"kiln", "ort"}) String engine;
    @Param({"2"}) int threads;

    Harness kiln;
    OrtSession session;
    OnnxTensor input;
    OrtEnvironment env;

    @Setup public void setup() throws OrtException {
        Path file = Path.of(System.getProperty("kiln.bench.models", "bench/models"), model + ".onnx");
        Graph g = OnnxImporter.load(file, Map.of());
        HostTensor x = HostTensor.normal(g.inputs().getFirst().type().shape(), 42);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(file.toString(), options);
        long[] shape = java.util.Arrays.stream(x.shape().dims()).asLongStream().toArray();
        input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data()), shape);
        // engine kiln-direct (not in the default set): Kiln with every dense conv on the direct kernel, to compare lowerings
        kiln = new Harness(g, "cpu", Map.of("threads", Integer.toString(threads), "conv", engine.equals("kiln-direct") ? "direct" : "auto"));
        kiln.inputs.put(g.inputs().getFirst().name(), x);
        kiln.call();
        HostTensor ours = kiln.outputs.values().iterator().next();
        float[] theirs = ortRun();
        HostTensor ref = HostTensor.of(ours.shape(), theirs);
        double err = ours.relativeL2Error(ref);
        if (err > 1e-4) throw new KilnException(model + ": Kiln and ONNX Runtime disagree, relative L2 error " + err);
        // only the engine being measured may keep threads: ORT's pool spins after each run
        if (engine.equals("ort")) { kiln.close(); kiln = null; }
        else { input.close(); session.close(); session = null; }
    }

    private float[] ortRun() throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
            FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    @TearDown public void tearDown() throws OrtException {
        if (kiln != null) kiln.close();
        if (session != null) { input.close(); session.close(); }
    }

    @Benchmark public float run() throws OrtException {
        if (kiln != null) return kiln.call();
        try (OrtSession.Result r = session.run(Map.of("x", input))) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }
}
