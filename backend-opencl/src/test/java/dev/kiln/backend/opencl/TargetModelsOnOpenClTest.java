package dev.kiln.backend.opencl;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.stream.Stream;

/**
 * Every built-in target model at its demo size, with seeded random weights: the optimised graph
 * (fused ops) and the raw traced graph (every op unfused, as with passes disabled) both run on
 * OpenCL and match the reference interpreter on the traced graph.
 */
class TargetModelsOnOpenClTest {
    static Stream<Arguments> models() {
        return Examples.all().stream().flatMap(e -> Stream.of(Arguments.of(e.name(), true), Arguments.of(e.name(), false)));
    }

    @ParameterizedTest(name = "{0}, optimised={1}")
    @MethodSource("models")
    void runsAndMatchesTheReference(String name, boolean optimised, TestReporter report) {
        OpenClTesting.assumeOpenCl();
        Examples.Example ex = Examples.byName(name);
        Graph traced = Tracer.trace(ex.model().get().initialize(11), "x", ex.inputShape());
        Graph g = optimised ? PassManager.defaults().run(traced).graph() : traced;
        HostTensor x = HostTensor.normal(ex.inputShape(), 5);
        Map<String, HostTensor> expected = ReferenceInterpreter.run(traced, Map.of("x", x));
        long t0 = System.nanoTime();
        try (Executable e = OpenClTesting.compile(g)) {
            long t1 = System.nanoTime();
            Map<String, HostTensor> actual = e.run(Map.of("x", x));
            long t2 = System.nanoTime();
            HostTensor want = expected.values().iterator().next(), got = actual.values().iterator().next();
            report.publishEntry(name, String.format("%d kernels, compile %.0f ms, first run %.1f ms, relative L2 error %.2e",
                    ((OpenClExecutable) e).kernels().size(), (t1 - t0) / 1e6, (t2 - t1) / 1e6, got.relativeL2Error(want)));
            OpenClTesting.assertClose(want, got, name + (optimised ? " (optimised)" : " (raw)"));
        }
    }
}
