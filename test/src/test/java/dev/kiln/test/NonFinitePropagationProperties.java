package dev.kiln.test;

import dev.kiln.passes.Passes;
import dev.kiln.runtime.Target;
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
 * NaN and ±∞ in the inputs propagate as the reference interpreter says: wherever the reference
 * gives NaN the backend gives NaN, wherever it gives ±∞ the same infinity, and elsewhere a finite
 * value within {@link Tolerance}. The graphs and data are those of the other properties (same
 * seeds), with NaN, +∞ and −∞ written into some input elements.
 */
class NonFinitePropagationProperties {
    static Stream<Arguments> backendsAndPipelines() {
        return Targets.backends().flatMap(b -> Stream.of(Arguments.of(b, "default passes"), Arguments.of(b, "no passes")));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("backendsAndPipelines")
    void nanAndInfinityPropagateAsTheReferenceSays(String backend, String pipeline) {
        Target target = Targets.require(backend);
        List<String> passes = pipeline.equals("default passes") ? Passes.DEFAULT : List.of();
        Property.check("NaN and ±Inf propagate as the reference says [" + backend + ", " + pipeline + "]",
                "-Dtest='NonFinitePropagationProperties' -Dkiln.backend=" + backend, Targets.tries(backend),
                GraphGen.nonFinite(Targets.options(backend)), c -> {
                    Tolerance.Expected want = Tolerance.expect(c);
                    return want.check(Targets.run(c, target, passes), backend, 1);
                });
    }
}
