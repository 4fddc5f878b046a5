package dev.kiln.backend.cpu;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every target model, unfused and through the default pipeline, matches the reference on the CPU backend. */
class CpuTargetModelsTest {
    static Stream<String> models() { return Examples.all().stream().map(Examples.Example::name); }

    @ParameterizedTest @MethodSource("models")
    void matchesReferenceUnfusedAndFused(String name) {
        Examples.Example ex = Examples.byName(name);
        Graph g = Tracer.trace(ex.model().get(), "x", ex.inputShape());
        HostTensor x = HostTensor.normal(ex.inputShape(), 11);
        HostTensor expected = ReferenceInterpreter.run(g, x);
        for (Graph variant : new Graph[]{g, PassManager.defaults().run(g).graph()}) {
            for (String threads : new String[]{"1", "2"}) {
                try (Executable exe = new CpuBackend().compile(variant, Map.of("threads", threads))) {
                    HostTensor y = exe.run(Map.of("x", x)).values().iterator().next();
                    double err = y.relativeL2Error(expected);
                    // f32 accumulation against the double reference; transcendental intrinsics are ≤ 2 ulp
                    assertTrue(err < 1e-5, name + " (" + variant.nodes().size() + " nodes, " + threads + " threads): rel. L2 error " + err);
                }
            }
        }
    }
}
