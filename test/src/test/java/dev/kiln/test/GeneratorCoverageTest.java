package dev.kiln.test;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Op;
import dev.kiln.passes.FusionReport;
import dev.kiln.passes.PassManager;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Choices;
import dev.kiln.test.kit.DataGen;
import dev.kiln.test.kit.Discard;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Sizes;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator is only as good as what it makes: over the first 200 seeds (the cases CI's
 * properties see) every op occurs, chains and DAGs and several outputs occur, the special sizes
 * occur, every kind of data occurs (attention masks hiding whole leading key tiles too), every
 * fusion fires and each near-miss is refused for its reason, and few cases are discarded. Prints
 * the distribution.
 */
class GeneratorCoverageTest {
    static final int SEEDS = 600;

    @Test
    void generatedCasesCoverOpsSizesDataFusionsAndNearMisses() {
        Map<String, Integer> ops = new TreeMap<>(), fused = new TreeMap<>(), features = new TreeMap<>();
        Set<String> reasons = new TreeSet<>();
        Set<Integer> dims = new TreeSet<>();
        int[] nodeHistogram = new int[64];
        int discarded = 0;
        for (long seed = 0; seed < SEEDS; seed++) {
            Case c = GraphGen.finite(GraphGen.Options.DEFAULT).generate(Choices.random(seed));
            Graph g = c.graph();
            nodeHistogram[Math.min(63, g.nodes().size())]++;
            Map<String, Integer> uses = new HashMap<>();
            for (Node n : g.nodes()) {
                ops.merge(n.op().mnemonic(), 1, Integer::sum);
                for (String i : n.inputs()) uses.merge(i, 1, Integer::sum);
                for (int d : n.type().shape().dims()) dims.add(d);
            }
            for (Graph.Value v : g.inputs()) for (int d : v.type().shape().dims()) dims.add(d);
            if (uses.entrySet().stream().anyMatch(e -> e.getValue() > 1 && g.producer(e.getKey()) != null)) count(features, "DAG (a node read twice)");
            else count(features, "chain");
            if (g.outputs().size() > 1) count(features, "several outputs");
            if (g.nodes().stream().anyMatch(n -> g.useCount(n.name()) == 0)) count(features, "dead nodes");
            for (HostTensor t : DataGen.tensors(c).values()) data(t, features);
            try {
                Tolerance.expect(c);
            } catch (Discard d) {
                discarded++;
            }
            FusionReport report = PassManager.defaults().run(g).report();
            for (var d : report.fused()) fused.merge(d.pass(), 1, Integer::sum);
            for (var d : report.refused()) reasons.add(d.pass() + " " + d.kind() + ": " + d.detail().replaceAll("%\\S+|\\(.*\\)|[0-9]+", "#"));
        }
        System.out.println("[kiln-generator] " + SEEDS + " cases; nodes per graph " + histogram(nodeHistogram) + "; ops " + ops
                + "; features " + features + "; discarded " + discarded + "; fusions " + fused + "; sizes " + dims
                + " (" + Sizes.describe() + ")\n  refusals: " + reasons);

        for (Class<?> op : Op.class.getPermittedSubclasses())
            assertTrue(ops.getOrDefault(Op.mnemonicOf(op), 0) >= 3, "op " + Op.mnemonicOf(op) + " is (nearly) never generated: " + ops);
        for (String f : List.of("chain", "DAG (a node read twice)", "several outputs", "dead nodes", "zeros", "-0.0", "large (≥1e3)",
                "tiny (<1e-6)", "subnormal", "small integers", "mask rows hiding their first 4·L keys"))
            assertTrue(features.getOrDefault(f, 0) >= 3, "'" + f + "' is (nearly) never generated: " + features);
        for (int d : new int[]{1, 2, 3, 5, 7, 11, 13, Sizes.L - 1, Sizes.L, Sizes.L + 1})
            assertTrue(dims.contains(d), "size " + d + " never occurs: " + dims);
        for (String pass : List.of("fold-batch-norm", "recognise-self-gated", "fuse-epilogues", "fuse-depthwise-pointwise", "fuse-attention"))
            assertTrue(fused.getOrDefault(pass, 0) >= 5, pass + " (nearly) never fires: " + fused);
        // each near-miss Motifs plants, by pass and kind; the detail tells apart near-misses of one kind
        for (String nearMiss : List.of("fold-batch-norm SECOND_CONSUMER: ", "fuse-depthwise-pointwise SECOND_CONSUMER: ",
                "fuse-depthwise-pointwise NOT_POINTWISE: pointwise kernel is #x#", "fuse-depthwise-pointwise NOT_POINTWISE: pointwise conv has stride",
                "fuse-depthwise-pointwise NOT_POINTWISE: pointwise conv has groups", "fuse-depthwise-pointwise NOT_POINTWISE: pointwise conv is padded",
                "fuse-depthwise-pointwise NOT_POINTWISE: consumer", "fuse-depthwise-pointwise ORDER: depthwise conv's epilogue",
                "fuse-epilogues ORDER: the epilogue already reads",
                "fuse-attention SECOND_CONSUMER: intermediate", "fuse-attention SECOND_CONSUMER: attention probabilities",
                "fuse-attention SHAPE_MISMATCH: softmax over axis", "fuse-attention SHAPE_MISMATCH: additive mask", "fuse-attention ORDER: "))
            assertTrue(reasons.stream().anyMatch(r -> r.startsWith(nearMiss)), "no near-miss refused as '" + nearMiss + "' among " + reasons);
        assertTrue(discarded <= SEEDS / 10, discarded + " of " + SEEDS + " cases discarded (values beyond " + Tolerance.LIMIT + ")");
    }

    private static void data(HostTensor t, Map<String, Integer> features) {
        boolean zeros = t.size() > 0, ints = t.size() > 1;
        for (float v : t.data()) {
            zeros &= v == 0;
            ints &= v == Math.rint(v) && Math.abs(v) <= 3;
        }
        if (zeros) count(features, "zeros");
        else if (ints) count(features, "small integers");
        float[] d = t.data();
        if (hasAny(d, v -> Float.floatToRawIntBits(v) == Float.floatToRawIntBits(-0f))) count(features, "-0.0");
        if (hasAny(d, v -> Math.abs(v) >= 1e3)) count(features, "large (≥1e3)");
        if (hasAny(d, v -> v != 0 && Math.abs(v) < 1e-6)) count(features, "tiny (<1e-6)");
        if (hasAny(d, v -> v != 0 && Math.abs(v) < Float.MIN_NORMAL)) count(features, "subnormal");
        if (hidesLeadingKeys(t, 4 * Sizes.L)) count(features, "mask rows hiding their first 4·L keys");
    }

    /** A [B,M,N] mask with a row whose first keys (at least a CPU attention key tile) are −∞ and a later key is not. */
    private static boolean hidesLeadingKeys(HostTensor t, int atLeast) {
        if (t.shape().rank() != 3) return false;
        int n = t.shape().dim(2);
        float[] d = t.data();
        for (int row = 0; row < t.size() / n; row++) {
            int j = 0;
            while (j < n && d[row * n + j] == Float.NEGATIVE_INFINITY) j++;
            if (j >= atLeast && j < n) return true;
        }
        return false;
    }

    private interface FloatTest { boolean test(float v); }

    private static boolean hasAny(float[] d, FloatTest t) {
        for (float v : d) if (t.test(v)) return true;
        return false;
    }

    private static void count(Map<String, Integer> m, String k) { m.merge(k, 1, Integer::sum); }

    private static String histogram(int[] h) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < h.length; i++) if (h[i] > 0) b.append(b.length() > 1 ? ", " : "").append(i).append(": ").append(h[i]);
        return b.append('}').toString();
    }
}
