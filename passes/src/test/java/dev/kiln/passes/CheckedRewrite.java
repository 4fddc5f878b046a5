package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.op.Op;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the example tests run passes: text IR in (weights bound at random), passes run with verification, semantics checked. */
final class CheckedRewrite {
    private CheckedRewrite() {}

    /** Parses text IR and binds random data to its constants. */
    static Graph parse(String ir) { return PatternGraphs.withRandomWeights(IrParser.parse(ir), 1); }

    /** Runs the named passes (verifying after each) and checks the result computes what g did. */
    static PassManager.Result run(Graph g, String... passes) {
        PassManager.Result result = PassManager.of(List.of(passes)).run(g);
        Equivalence.assertEquivalent(g, result.graph(), 7);
        return result;
    }

    static PassManager.Result run(String ir, String... passes) { return run(parse(ir), passes); }

    /** The detail of the one refusal in the report, which must be of that kind. */
    static String onlyRefusal(PassManager.Result result, FusionReport.Kind kind) {
        var refused = result.report().refused();
        assertEquals(1, refused.size(), result.report()::toString);
        assertEquals(kind, refused.getFirst().kind(), result.report()::toString);
        return refused.getFirst().detail();
    }

    static long count(Graph g, Class<? extends Op> op) { return g.nodes().stream().filter(n -> op.isInstance(n.op())).count(); }
}
