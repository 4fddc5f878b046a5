package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/** Whether a rewritten graph computes what the original did, judged by the reference interpreter. */
final class Equivalence {
    private Equivalence() {}

    /*
     * Tolerances. A rewrite may reassociate f32 arithmetic: folding a batch norm sums
     * x·(w·s) where the original summed x·w and then scaled, and adds one folded bias
     * (b − mean)·s + β where the original rounded after each step; epilogue fusion adds a
     * bias plus a constant once instead of rounding after each add; fused attention keeps the
     * scores in double where the chain rounded to f32 after the matmul, the scaling and the
     * mask. Each costs a few f32 ulps (~1e-7 relative) per op; 1e-5 relative L2 leaves two
     * orders of margin for that over a chain, while a real slip (a wrong axis, a lost bias,
     * the epilogue in the wrong order) is off by 1e-2 or more. The element-wise check catches
     * a few wrong elements that a norm over many good ones would hide; its atol covers outputs
     * near zero (after ReLU, in softmax tails). For the same reason the norm is taken relative to
     * no less than atol·√n: in GELU's or a sigmoid's far tail an ulp of the input moves an
     * output of 1e-11 by 1e-5 of itself, and for an output that small only an absolute bound
     * means anything.
     */
    static final double MAX_RELATIVE_L2 = 1e-5, RTOL = 1e-4, ATOL = 1e-5;

    /** The graph's results in output order (a name listed twice gives its value twice). */
    static List<HostTensor> outputs(Graph g, Map<String, HostTensor> inputs) {
        Map<String, HostTensor> byName = ReferenceInterpreter.run(g, inputs);
        List<HostTensor> out = new ArrayList<>();
        for (String o : g.outputs()) out.add(byName.get(o));
        return out;
    }

    /** What differs between the two graphs' outputs on these inputs, or null when they agree within tolerance. */
    static String difference(Graph before, Graph after, Map<String, HostTensor> inputs) {
        List<HostTensor> want = outputs(before, inputs), got = outputs(after, inputs);
        if (want.size() != got.size()) return "the graph had " + want.size() + " outputs and now has " + got.size();
        for (int i = 0; i < want.size(); i++) {
            HostTensor w = want.get(i), g = got.get(i);
            String which = "output " + i + " (%" + before.outputs().get(i) + ", now %" + after.outputs().get(i) + ")";
            if (!w.shape().equals(g.shape())) return which + " has shape " + g.shape() + ", was " + w.shape();
            double rel = relativeL2(g, w);
            if (!(rel <= MAX_RELATIVE_L2) || !g.allClose(w, RTOL, ATOL))
                return which + " differs: relative L2 " + rel + ", max abs " + g.maxAbsError(w) + "\n  was " + w + "\n  now " + g;
        }
        return null;
    }

    /** ‖got − want‖₂ / max(‖want‖₂, atol·√n). */
    static double relativeL2(HostTensor got, HostTensor want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.size(); i++) {
            double d = (double) got.data()[i] - want.data()[i];
            num += d * d;
            den += (double) want.data()[i] * want.data()[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), ATOL * Math.sqrt(want.size()));
    }

    /** Fails, printing both graphs, unless after computes what before did on random inputs. */
    static void assertEquivalent(Graph before, Graph after, long seed) {
        String diff = difference(before, after, PatternGraphs.inputsFor(before, seed));
        if (diff != null) fail(diff + "\n--- before\n" + before + "--- after\n" + after);
    }
}
