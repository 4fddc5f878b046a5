package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.passes.PassManager;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.DataGen;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

/**
 * Text IR round-trips: printing, parsing and printing again gives the same text, and the parsed
 * graph (its weights bound again) computes bit for bit what the original did. Checked on the
 * generated graph, on its optimised form (fused ops, folded constants) and on the kit's own case
 * files (graph plus data, NaN and −0.0 included). Names include ones the printer must quote.
 */
class TextIrRoundTripProperties {
    @Test
    void printParsePrintIsIdentityAndKeepsWhatTheGraphComputes() {
        GraphGen.Options odd = new GraphGen.Options(8, 2048, 20, true);
        Property.check("text IR round-trips", "-Dtest='TextIrRoundTripProperties'", Integer.getInteger("kiln.tries", 200),
                c -> DataGen.injectNonFinite(GraphGen.finite(odd).generate(c), c), c -> {
                    Failure f = roundTrip(c.graph(), c.inputs(), "generated");
                    if (f != null) return f;
                    f = roundTrip(PassManager.defaults().run(c.graph()).graph(), c.inputs(), "optimised");
                    if (f != null) return f;
                    Case back = Case.parse(c.toText("round trip"), "case text");
                    if (!IrPrinter.print(back.graph()).equals(IrPrinter.print(c.graph())))
                        return new Failure("case text", "the case file gives another graph", IrPrinter.print(back.graph()));
                    for (var e : DataGen.tensors(c).entrySet())
                        if (!Arrays.equals(e.getValue().data(), DataGen.tensors(back).get(e.getKey()).data()))
                            return new Failure("case text", "the case file changes the data of %" + e.getKey(), Tolerance.show(DataGen.tensors(back).get(e.getKey())));
                    return null;
                });
    }

    static Failure roundTrip(Graph g, Map<String, HostTensor> inputs, String which) {
        String text = IrPrinter.print(g);
        Graph parsed = IrParser.parse(text, which + " graph");
        String again = IrPrinter.print(parsed);
        if (!again.equals(text)) return new Failure("text", "print(parse(print(g))) differs from print(g) for the " + which + " graph", "--- printed again\n" + again);
        Map<String, HostTensor> want = ReferenceInterpreter.run(g, inputs), got = ReferenceInterpreter.run(parsed.withWeights(g.weights()), inputs);
        for (String o : g.outputs())
            if (!Arrays.equals(want.get(o).data(), got.get(o).data()))
                return new Failure("values", "the parsed " + which + " graph computes another %" + o, Tolerance.outputs(want, "original", got, "parsed"));
        return null;
    }
}
