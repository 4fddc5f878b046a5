package dev.kiln.runtime;

import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.ir.Backend;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.testing.SkipOrFail;
import dev.kiln.passes.FusionReport;
import dev.kiln.passes.Passes;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default pipeline runs without the fusions the target's backend declines, and the fusion
 * report says where and why; a pipeline the caller chose runs as chosen, so a declined fused
 * kernel stays reachable.
 */
class BackendDeclinesTest {
    static final Graph ATTENTION = IrParser.parse("""
            graph @attention(%q: f32[1,8,4], %k: f32[1,16,4], %v: f32[1,16,4]) {
              %kt: f32[1,4,16] = transpose(%k) {perm=[0,2,1]}
              %s: f32[1,8,16] = mat_mul(%q, %kt)
              %p: f32[1,8,16] = softmax(%s) {axis=2}
              %o: f32[1,8,4] = mat_mul(%p, %v) loc("attend")
              return %o
            }
            """);

    /** The CPU backend under another name, declining fused attention. */
    static final class SlowAttentionCpu implements Backend {
        @Override public String name() { return "slow-attention"; }
        @Override public boolean isAvailable() { return true; }
        @Override public Map<String, String> declinedFusions(Map<String, String> options) { return Map.of("fuse-attention", "measured slower"); }
        @Override public Executable compile(Graph g, Map<String, String> options) { return new CpuBackend().compile(g, options); }
    }

    @Test
    void defaultPipelineLeavesOutWhatTheTargetDeclinesAndTheReportSaysSo() {
        try (CompiledModel m = Kiln.compile(ATTENTION, Target.of(new SlowAttentionCpu()))) {
            assertFalse(m.ir().contains("fused_attention"), m.ir());
            FusionReport report = m.fusionReport().orElseThrow();
            assertEquals(1, report.declined().size(), report::toString);
            FusionReport.Decision d = report.declined().getFirst();
            assertEquals(FusionReport.Kind.DECLINED_BY_BACKEND, d.kind());
            assertEquals("fuse-attention", d.pass());
            assertEquals("attend (%o)", d.where());
            assertEquals("declined by the slow-attention backend: measured slower", d.detail());
            assertTrue(m.fusionReportText().contains("not fused: declined by the slow-attention backend: measured slower"),
                    "artifacts and kiln inspect keep the decline: " + m.fusionReportText());
            assertMatchesReference(m);
        }
    }

    @Test
    void aChosenPipelineRunsEvenAFusionTheTargetDeclines() {
        try (CompiledModel m = Kiln.compile(ATTENTION, Target.of(new SlowAttentionCpu()), CompileOptions.defaults().withPasses(Passes.DEFAULT))) {
            assertTrue(m.ir().contains("fused_attention"), m.ir());
            assertTrue(m.fusionReport().orElseThrow().declined().isEmpty());
            assertMatchesReference(m);
        }
    }

    @Test
    void theCpuBackendDeclinesNothing() {
        try (CompiledModel m = Kiln.compile(ATTENTION, Target.cpu())) {
            assertTrue(m.ir().contains("fused_attention"), m.ir());
        }
    }

    @Test
    void openClDeclinesFusedAttentionYetRunsItWhenThePipelineNamesIt() {
        SkipOrFail.requireBackend("opencl");
        try (CompiledModel m = Kiln.compile(ATTENTION, Target.opencl())) {
            assertFalse(m.ir().contains("fused_attention"), m.ir());
            String detail = m.fusionReport().orElseThrow().declined().getFirst().detail();
            assertTrue(detail.startsWith("declined by the opencl backend: fused attention is slower than unfused (measured 0.41×"), detail);
            assertMatchesReference(m);
        }
        try (CompiledModel m = Kiln.compile(ATTENTION, Target.opencl(), CompileOptions.defaults().withPasses(Passes.DEFAULT))) {
            assertTrue(m.ir().contains("fused_attention"), m.ir());
            assertMatchesReference(m);
        }
    }

    private static void assertMatchesReference(CompiledModel m) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        long seed = 1;
        for (Graph.Value v : ATTENTION.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), seed++));
        HostTensor want = ReferenceInterpreter.run(ATTENTION, in).get("o");
        HostTensor got = m.run(in).get("o");
        assertTrue(got.relativeL2Error(want) < 1e-5, "relative L2 error " + got.relativeL2Error(want));
    }
}
