package dev.kiln.test;

import dev.kiln.passes.Passes;
import dev.kiln.runtime.Target;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Discard;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/**
 * For every backend: a generated graph compiled and run equals the reference interpreter on the
 * same inputs, within the tolerance {@link Tolerance} states, both after the full default pass
 * pipeline and with no pass at all (so every op, fused or not, reaches the backend as generated).
 * Each compiled graph is called twice, the second time on other data (the inputs reversed and
 * negated), so state one call leaves behind (a stale halo, an arena slot reused) would show.
 */
class BackendMatchesReferenceProperties {
    static Stream<Arguments> backendsAndPipelines() {
        return Targets.backends().flatMap(b -> Stream.of(Arguments.of(b, "default passes"), Arguments.of(b, "no passes")));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("backendsAndPipelines")
    void compiledGraphEqualsReference(String backend, String pipeline) {
        Target target = Targets.require(backend);
        List<String> passes = pipeline.equals("default passes") ? Passes.DEFAULT : List.of();
        Property.check("compiled equals reference [" + backend + ", " + pipeline + "]",
                "-Dtest='BackendMatchesReferenceProperties' -Dkiln.backend=" + backend, Targets.tries(backend),
                GraphGen.finite(Targets.options(backend)), c -> {
                    Case again = c.withOtherInputs();
                    Tolerance.Expected want = Tolerance.expect(c), wantAgain;
                    try {
                        wantAgain = Tolerance.expect(again);
                    } catch (Discard d) {
                        wantAgain = null;
                    }
                    var got = Targets.run(c, target, passes, List.of(c.inputs(), again.inputs()));
                    Failure f = want.check(got.get(0), backend, 1);
                    return f != null || wantAgain == null ? f : wantAgain.check(got.get(1), backend + " (second call, inputs reversed and negated)", 1);
                });
    }
}
