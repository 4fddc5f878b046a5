package dev.kiln.test;

import dev.kiln.passes.Passes;
import dev.kiln.runtime.Target;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

/**
 * On every backend, a graph compiled with the default pipeline (fusions on) and with the same
 * pipeline minus every fuse-* pass agree element by element within twice the graph's
 * {@link Tolerance} (each may be off from the reference by up to once).
 */
class FusedMatchesUnfusedProperties {
    static Stream<String> backends() { return Targets.backends(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void fusedAndUnfusedCompilationsAgree(String backend) {
        Target target = Targets.require(backend);
        Property.check("fused equals unfused [" + backend + "]", "-Dtest='FusedMatchesUnfusedProperties' -Dkiln.backend=" + backend,
                Targets.tries(backend), GraphGen.finite(Targets.options(backend)), c -> {
                    Tolerance.Expected want = Tolerance.expect(c);
                    var unfused = Targets.run(c, target, Targets.UNFUSED);
                    var fused = Targets.run(c, target, Passes.DEFAULT);
                    return want.compare(unfused, "unfused " + backend, fused, "fused " + backend, 2);
                });
    }
}
