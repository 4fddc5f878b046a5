package dev.kiln.test.onnx;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default pass pipeline on imported graphs: FuseAttention and FuseDepthwisePointwise must
 * fire on the forms PyTorch exports (attention as MatMul, Div by a constant, Softmax, MatMul with
 * Transposes and Reshapes around them; depthwise and pointwise Convs with BN and ReLU between),
 * and the optimised graph must still reproduce PyTorch's output. It lives here, not in frontend,
 * because it needs both frontend and passes (passes' tests depend on frontend: a Maven cycle).
 */
class OnnxFusionTest {
    /** As the frontend's ONNX import tests: relative L2 error against PyTorch. */
    static final double MAX_RELATIVE_L2 = 1e-5;

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
        PassManager.Result r = PassManager.defaults().run(f.load());
        out.publishEntry(f.toString(), "\n" + r.report());
        assertEquals(attention, r.report().count("fuse-attention"), () -> f + ": attention fusions\n" + r.report() + r.graph());
        assertEquals(dwPw, r.report().count("fuse-depthwise-pointwise"), () -> f + ": depthwise+pointwise fusions\n" + r.report() + r.graph());

        List<HostTensor> got = new ArrayList<>(ReferenceInterpreter.run(r.graph(), f.inputData()).values());
        HostTensor want = f.expectedOutputs().getFirst();
        double err = got.getFirst().relativeL2Error(want);
        assertTrue(err <= MAX_RELATIVE_L2, () -> f + " after the passes: relative L2 error " + err);
    }
}
