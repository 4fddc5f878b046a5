package dev.kiln.test;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.passes.Passes;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import dev.kiln.test.kit.Discard;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Artifacts round-trip: a compiled graph saved as a .kiln file, loaded again and run gives bit
 * for bit the results the compiled model gave (the same optimised graph, the same weights, the
 * same regenerated kernels), and the loaded model's IR is the saved one.
 */
class ArtifactRoundTripProperties {
    static Stream<String> backends() { return Targets.backends(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void savedLoadedAndRunGivesIdenticalResults(String backend) throws Exception {
        Target target = Targets.require(backend);
        Path dir = Files.createTempDirectory("kiln-artifacts");
        try {
            Property.check("artifact round-trips [" + backend + "]", "-Dtest='ArtifactRoundTripProperties' -Dkiln.backend=" + backend,
                    Targets.tries(backend), GraphGen.finite(Targets.options(backend)), c -> {
                        Path file = dir.resolve("case.kiln");
                        try (CompiledModel m = Targets.compile(c, target, Passes.DEFAULT)) {
                            Map<String, HostTensor> first = m.run(c.inputs());
                            m.save(file);
                            try (CompiledModel loaded = Kiln.load(file, target)) {
                                if (!loaded.ir().equals(m.ir()))
                                    return new Failure("ir", "the loaded artifact's IR differs from the saved model's", "--- saved\n" + m.ir() + "--- loaded\n" + loaded.ir());
                                Map<String, HostTensor> second = loaded.run(c.inputs());
                                for (String o : first.keySet())
                                    if (!second.containsKey(o) || !Arrays.equals(first.get(o).data(), second.get(o).data()))
                                        return new Failure("values", "output %" + o + " differs after save and load", Tolerance.outputs(first, "compiled", second, "loaded"));
                            }
                        } catch (UnsupportedOpException e) {
                            throw Discard.refusal(e);
                        } finally {
                            Files.deleteIfExists(file);
                        }
                        return null;
                    });
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
