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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The same .onnx file (bench/models, exported by tools/fixtures/make_bench_onnx.py) in Kiln's CPU
 * backend and in ONNX Runtime (CPU, all graph optimisations, the same number of intra-op
 * threads), batch 1 (and 8 for the CNN). Setup checks that both give the same output. The
 * torchvision classifiers (resnet18, resnet18-b8, mobilenet_v2, squeezenet1_1, efficientnet_b0,
 * densenet121, googlenet, regnet_y_400mf, mobilenet_v3_small, shufflenet_v2_x1_0) and the image models dcgan
 * and espcn run with {@code -p model=...} once generated.
 *
 * <p>Same work per call on both sides: Kiln runs into preallocated output tensors, and ONNX
 * Runtime into a preallocated output too (a pinned output backed by a direct buffer). Reading
 * ORT's result with {@code getFloatBuffer()} instead copies the whole output into a new Java
 * buffer on every call, which charged ORT for work Kiln does not do (800 KB per call for dwsep).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", Harness.ALIGN_ARRAYS})
public class OnnxRuntimeBenchmark {
    @Param({"dwsep", "mobilenet", "attention", "adaptive-attention", "generator", "cnn", "cnn-b8", "lstm", "seq-attention", "seq-attention-general"})
    String model;
    @Param({"kiln", "ort"}) String engine;
    @Param({"2"}) int threads;

    Harness kiln;
    OrtSession session;
    OnnxTensor input, output;
    FloatBuffer outputData;
    String inputName, outputName;
    OrtEnvironment env;

    @Setup public void setup() throws OrtException {
        Path file = modelFile(model);
        Graph g = OnnxImporter.load(file, Map.of());
        HostTensor x = HostTensor.normal(g.inputs().getFirst().type().shape(), 42);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(file.toString(), options);
        inputName = session.getInputNames().iterator().next();
        outputName = session.getOutputNames().iterator().next();
        input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data()), longs(x.shape().dims()));
        // engines kiln-direct and kiln-winograd (not in the default set): Kiln with every dense conv on the direct kernel,
        // or every dense 3×3 stride-1 conv by Winograd, to compare lowerings
        String conv = switch (engine) { case "kiln-direct" -> "direct"; case "kiln-winograd" -> "winograd"; default -> "auto"; };
        kiln = new Harness(g, "cpu", Map.of("threads", Integer.toString(threads), "conv", conv));
        kiln.inputs.put(g.inputs().getFirst().name(), x);
        kiln.call();
        HostTensor ours = kiln.outputs.values().iterator().next();
        outputData = ByteBuffer.allocateDirect(4 * (int) ours.size()).order(ByteOrder.nativeOrder()).asFloatBuffer();
        output = OnnxTensor.createTensor(env, outputData, longs(ours.shape().dims()));
        ortRun();
        float[] theirs = new float[outputData.capacity()];
        outputData.get(0, theirs);
        HostTensor ref = HostTensor.of(ours.shape(), theirs);
        double err = ours.relativeL2Error(ref);
        if (err > 1e-4) throw new KilnException(model + ": Kiln and ONNX Runtime disagree, relative L2 error " + err);
        // only the engine being measured may keep threads: ORT's pool spins after each run
        if (engine.equals("ort")) { kiln.close(); kiln = null; }
        else { closeOrt(); session = null; }
    }

    /**
     * bench/models/NAME.onnx (the target models, committed) or bench/models/torchvision/NAME.onnx
     * (torchvision classifiers at 224², written by make_bench_onnx.py --torchvision; too large to commit).
     */
    static Path modelFile(String model) {
        Path dir = Path.of(System.getProperty("kiln.bench.models", "bench/models"));
        for (Path p : new Path[]{dir.resolve(model + ".onnx"), dir.resolve("torchvision").resolve(model + ".onnx")})
            if (java.nio.file.Files.isRegularFile(p)) return p;
        throw new KilnException("no " + model + ".onnx in " + dir.toAbsolutePath() + " or its torchvision/; the torchvision models "
                + "are written by: /usr/bin/python3 tools/fixtures/make_bench_onnx.py --torchvision");
    }

    private static long[] longs(int[] dims) { return java.util.Arrays.stream(dims).asLongStream().toArray(); }

    /** One ORT call writing into the pinned output (the Result does not own it). */
    private float ortRun() throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(inputName, input), Map.of(outputName, output))) {
            return outputData.get(0);
        }
    }

    private void closeOrt() throws OrtException {
        input.close();
        output.close();
        session.close();
    }

    @TearDown public void tearDown() throws OrtException {
        if (kiln != null) kiln.close();
        if (session != null) closeOrt();
    }

    @Benchmark public float run() throws OrtException {
        return kiln != null ? kiln.call() : ortRun();
    }
}
