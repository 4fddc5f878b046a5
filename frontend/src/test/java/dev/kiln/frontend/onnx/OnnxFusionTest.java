package dev.kiln.frontend.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The default pass pipeline on imported graphs: FuseAttention and FuseDepthwisePointwise must
 * fire on the forms PyTorch exports (attention as MatMul, Div by a constant, Softmax, MatMul with
 * Transposes and Reshapes around them; depthwise and pointwise Convs with BN and ReLU between),
 * and the optimised graph must still reproduce PyTorch's output.
 *
 * <p>kiln-passes cannot be a Maven dependency of this module: passes' own tests depend on
 * kiln-frontend, and Maven refuses the cycle even across test scope. So the pipeline is reached
 * by reflection when kiln-passes is on the test classpath (for instance
 * {@code -Dmaven.test.additionalClasspath=../passes/target/classes}) and these tests are
 * skipped otherwise. They belong in a module that depends on both (test, or runtime).
 */
class OnnxFusionTest {
    /** Fusions counted by pass name after PassManager.defaults().run(g), the report text, and the optimised graph. */
    record Fused(Graph graph, String report, long attention, long dwPw) {}

    static Fused runDefaultPipeline(Graph g) {
        Class<?> pm;
        try {
            pm = Class.forName("dev.kiln.passes.PassManager");
        } catch (ClassNotFoundException e) {
            Assumptions.abort("kiln-passes is not on the test classpath (see OnnxFusionTest's javadoc)");
            throw new AssertionError(e);
        }
        try {
            Object manager = pm.getMethod("defaults").invoke(null);
            Object result = pm.getMethod("run", Graph.class).invoke(manager, g);
            Object report = result.getClass().getMethod("report").invoke(result);
            Method count = report.getClass().getMethod("count", String.class);
            return new Fused((Graph) result.getClass().getMethod("graph").invoke(result), report.toString(),
                    (long) count.invoke(report, "fuse-attention"), (long) count.invoke(report, "fuse-depthwise-pointwise"));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("kiln-passes' API changed: " + e, e);
        }
    }

    @ParameterizedTest(name = "{0} @ opset {1}: {2} attention, {3} depthwise+pointwise")
    @CsvSource({
            "attention, 13, 1, 0", "attention, 17, 1, 0",
            "adaptive-attention, 13, 1, 0", "adaptive-attention, 17, 1, 0",
            "seq-attention, 13, 1, 0", "seq-attention, 17, 1, 0",
            "seq-attention-general, 13, 1, 0", "seq-attention-general, 17, 1, 0",
            "dwsep, 13, 0, 1", "dwsep, 17, 0, 1",
            "mobilenet, 13, 0, 3", "mobilenet, 17, 0, 3",
            "mobilenet-bn, 13, 0, 3", "mobilenet-bn, 17, 0, 3"})
    void defaultPipelineFusesTheImportedGraph(String model, int opset, long attention, long dwPw, TestReporter out) {
        OnnxFixtures f = OnnxFixtures.of(model, opset);
        Fused r = runDefaultPipeline(f.load());
        out.publishEntry(f.toString(), "\n" + r.report());
        assertEquals(attention, r.attention(), () -> f + ": attention fusions\n" + r.report() + r.graph());
        assertEquals(dwPw, r.dwPw(), () -> f + ": depthwise+pointwise fusions\n" + r.report() + r.graph());

        List<HostTensor> got = new ArrayList<>(ReferenceInterpreter.run(r.graph(), f.inputData()).values());
        HostTensor want = f.expectedOutputs().getFirst();
        double err = got.getFirst().relativeL2Error(want);
        assertTrue(err <= OnnxImportMatchesPyTorchTest.MAX_RELATIVE_L2, () -> f + " after the passes: relative L2 error " + err);
    }
}
