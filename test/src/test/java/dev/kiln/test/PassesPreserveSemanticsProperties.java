package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Verifier;
import dev.kiln.passes.Pass;
import dev.kiln.passes.PassContext;
import dev.kiln.passes.PassManager;
import dev.kiln.passes.Passes;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every pass on its own, and the whole default pipeline, keeps what a graph computes: the
 * reference interpreter before and after agree within the {@link Tolerance} of the graph, and
 * the result is well formed. The graphs are full of the patterns the passes rewrite and of
 * near-misses they must leave alone; on finite data, and with NaN and ±∞ in the inputs (which
 * must come out where the reference puts them). Outputs are matched by position (a rewrite may
 * rename them).
 */
class PassesPreserveSemanticsProperties {
    static final String PIPELINE = "default pipeline";

    static Stream<Arguments> rewrites() {
        return Stream.of("finite data", "NaN and ±Inf in inputs").flatMap(data ->
                Stream.concat(Passes.all().stream().map(Pass::name), Stream.of(PIPELINE)).map(p -> Arguments.of(p, data)));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("rewrites")
    void referenceBeforeEqualsReferenceAfter(String rewrite, String data) {
        GraphGen.Generator gen = data.equals("finite data") ? GraphGen.finite(GraphGen.Options.DEFAULT) : GraphGen.nonFinite(GraphGen.Options.DEFAULT);
        Property.check("pass preserves semantics [" + rewrite + ", " + data + "]", "-Dtest='PassesPreserveSemanticsProperties'",
                Integer.getInteger("kiln.tries", 200), gen, c -> {
                    Tolerance.Expected want = Tolerance.expect(c);
                    Graph before = c.graph();
                    Graph after = rewrite.equals(PIPELINE) ? PassManager.defaults().run(before).graph()
                            : Passes.byName(rewrite).run(before, new PassContext());
                    List<String> problems = Verifier.problems(after);
                    if (!problems.isEmpty()) return new Failure("ill-formed", rewrite + " made an ill-formed graph: " + problems.getFirst(), "--- after\n" + after);
                    if (after.outputs().size() != before.outputs().size())
                        return new Failure("outputs", rewrite + " changed the number of outputs from " + before.outputs().size()
                                + " to " + after.outputs().size(), "--- after\n" + after);
                    Map<String, HostTensor> got = ReferenceInterpreter.run(after, c.inputs()), byPosition = new LinkedHashMap<>();
                    for (int i = 0; i < before.outputs().size(); i++) byPosition.put(before.outputs().get(i), got.get(after.outputs().get(i)));
                    Failure f = want.check(byPosition, "after " + rewrite, 1);
                    return f == null ? null : new Failure(f.key(), f.summary(), f.details() + "--- graph after " + rewrite + "\n" + after);
                });
    }
}
