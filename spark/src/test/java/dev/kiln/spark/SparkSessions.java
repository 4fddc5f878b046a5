package dev.kiln.spark;

import dev.kiln.frontend.models.SmallCnn;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.CompileOptions;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.Map;

/** A small local Spark for tests and the throughput run, and the artifacts they score with. */
final class SparkSessions {
    private SparkSessions() {}

    /** local[threads], no UI, loopback only, few shuffle partitions: starts in a few seconds. */
    static SparkSession local(int threads) {
        return SparkSession.builder().master("local[" + threads + "]").appName("kiln-spark")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    /** The ONNX fixture with a dynamic batch axis (input x: [batch, 3, 8, 8]), saved as an artifact that keeps its ONNX model. */
    static Path dynamicArtifact(Path dir) {
        Path onnx = Path.of("..", "frontend", "src", "test", "resources", "fixtures", "onnx", "ops-dynamic", "opset17.onnx");
        Path out = dir.resolve("ops-dynamic.kiln");
        try (CompiledModel m = Kiln.compileOnnx(onnx, Target.cpu(), CompileOptions.defaults(), Map.of())) {
            m.save(out);
        }
        return out;
    }

    /** The built-in small CNN (input [batch, 3, 24, 24] -> [batch, 10]) compiled with fixed shapes at this batch. */
    static Path fixedCnnArtifact(Path dir, int batch) {
        Path out = dir.resolve("cnn-b" + batch + ".kiln");
        try (CompiledModel m = Kiln.compile(new SmallCnn().initialize(7), Target.cpu(), Shape.of(batch, 3, 24, 24))) {
            m.save(out);
        }
        return out;
    }

    /** One row's tensor: deterministic values from the row id. */
    static float[] rowTensor(long id, int n) {
        return HostTensor.uniform(Shape.of(n), 1000 + id, -1f, 1f).data();
    }
}
