package dev.kiln.test.kit;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.test.kit.GraphGen.Generator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Shrinks a failing case to a small one that fails the same way (same {@link Failure#key}).
 * Three kinds of moves, each kept only when the case still fails and got simpler:
 * <ol>
 *   <li>on the generator's choices (as Hypothesis does): delete a whole step (removes the nodes
 *       it made), then lower single choices to 0 or halve them (halves dimensions, since size
 *       tables are sorted; picks simpler ops, attributes and data kinds). The case is rebuilt by
 *       the generator, so it stays well typed.</li>
 *   <li>on the graph: drop an output; make one node the only output (removes what follows it);
 *       bypass a node by an operand of its type; cut the graph at a node, which becomes an input
 *       holding the value the reference computed there (removes what precedes it).</li>
 *   <li>on the data: each input or constant to zeros, else ones, else its values rounded to integers.</li>
 * </ol>
 * The moves on choices get at most 60% of the budget: -Dkiln.shrinkBudget evaluations (default
 * 1000) and -Dkiln.shrinkSeconds (default 120), whichever ends first.
 */
public final class Shrinker {
    public record Result(Case shrunk, Failure failure, int steps, int evaluations, double seconds) {}

    private static final int BUDGET = Integer.getInteger("kiln.shrinkBudget", 1000);
    private static final long SECONDS = Long.getLong("kiln.shrinkSeconds", 120);

    private final Generator gen;
    private final Property.Check check;
    private final String key;
    private final long deadline;
    private int[] choices;
    private Case best;
    private Failure failure;
    private int steps, evaluations;

    private Shrinker(Generator gen, Property.Check check, int[] choices, Case original, Failure failure) {
        this.gen = gen;
        this.check = check;
        this.choices = choices;
        this.best = original;
        this.failure = failure;
        this.key = failure.key();
        this.deadline = System.nanoTime() + SECONDS * 1_000_000_000L;
    }

    /** gen may be null (a case not made by a generator, e.g. a regression file): then only graph and data moves apply. */
    public static Result shrink(Generator gen, int[] choices, Case original, Failure failure, Property.Check check) {
        long t0 = System.nanoTime();
        Shrinker s = new Shrinker(gen, check, choices, original, failure);
        if (gen != null) s.shrinkChoices();
        boolean progress = true;
        while (progress && s.budgetLeft()) progress = s.shrinkGraph() | s.shrinkData();
        return new Result(s.best, s.failure, s.steps, s.evaluations, (System.nanoTime() - t0) / 1e9);
    }

    private boolean budgetLeft() { return evaluations < BUDGET && System.nanoTime() < deadline; }

    private boolean choiceBudgetLeft() { return evaluations < BUDGET * 6 / 10 && System.nanoTime() < deadline - SECONDS * 400_000_000L; }

    // ---- choices ----

    private void shrinkChoices() {
        for (boolean progress = true; progress && choiceBudgetLeft(); ) {
            progress = deleteSpans();
            for (int pass = 0; pass < 2 && !progress; pass++)
                for (int i = 0; i < choices.length && choiceBudgetLeft(); i++) {
                    int lower = pass == 0 ? 0 : choices[i] / 2;
                    if (lower >= choices[i]) continue;
                    int[] cand = choices.clone();
                    cand[i] = lower;
                    progress |= tryChoices(cand);
                }
        }
    }

    /** Deletes whole steps, longest first, while that keeps the failure. */
    private boolean deleteSpans() {
        boolean any = false;
        for (boolean progress = true; progress && choiceBudgetLeft(); ) {
            progress = false;
            Choices replayed = Choices.replay(choices);
            gen.generate(replayed);
            List<int[]> spans = new ArrayList<>(replayed.spans());
            spans.sort(Comparator.comparingInt((int[] s) -> s[0] - s[1]));      // longest first
            for (int[] s : spans) {
                if (!choiceBudgetLeft()) break;
                int[] cand = new int[choices.length - (s[1] - s[0])];
                System.arraycopy(choices, 0, cand, 0, s[0]);
                System.arraycopy(choices, s[1], cand, s[0], choices.length - s[1]);
                if (tryChoices(cand)) { progress = any = true; break; }
            }
        }
        return any;
    }

    private boolean tryChoices(int[] cand) {
        Choices ch = Choices.replay(cand);
        Case c;
        try {
            c = gen.generate(ch);
        } catch (RuntimeException e) {
            return false;
        }
        int[] drawn = ch.sequence();
        if (Choices.compare(drawn, choices) >= 0) return false;
        if (!fails(c)) return false;
        choices = drawn;
        return true;
    }

    // ---- graph ----

    private boolean shrinkGraph() {
        boolean any = false;
        for (boolean progress = true; progress && budgetLeft(); ) {
            progress = false;
            for (Supplier<Case> move : graphMoves()) {
                if (!budgetLeft()) break;
                Case cand;
                try {
                    cand = move.get();
                } catch (RuntimeException e) {
                    continue;
                }
                if (smaller(cand, best) && fails(cand)) { progress = any = true; break; }
            }
        }
        return any;
    }

    private List<Supplier<Case>> graphMoves() {
        Case c = best;
        List<Supplier<Case>> moves = new ArrayList<>();
        List<String> outs = c.graph().outputs();
        for (String o : outs)
            if (outs.size() > 1) moves.add(() -> c.withOutputs(outs.stream().filter(x -> !x.equals(o)).toList()));
        Map<String, HostTensor> values;
        try {
            values = Tolerance.values(c);
        } catch (RuntimeException e) {
            values = Map.of();
        }
        List<Node> nodes = c.graph().nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (!(outs.size() == 1 && outs.contains(n.name()))) moves.add(() -> c.withOutputs(List.of(n.name())));
            for (String operand : n.inputs())
                if (n.type().equals(c.graph().typeOf(operand)) && !c.graph().isConstant(operand))
                    moves.add(() -> c.bypass(n.name(), operand));
            HostTensor v = values.get(n.name());
            if (v != null && !outs.contains(n.name())) moves.add(() -> c.cutAt(n.name(), v));
        }
        return moves;
    }

    private static boolean smaller(Case a, Case b) {
        if (a.nodeCount() != b.nodeCount()) return a.nodeCount() < b.nodeCount();
        if (a.graph().outputs().size() != b.graph().outputs().size()) return a.graph().outputs().size() < b.graph().outputs().size();
        return a.elements() < b.elements();
    }

    // ---- data ----

    private boolean shrinkData() {
        boolean any = false;
        for (var e : DataGen.tensors(best).entrySet()) {
            int rank = simplicity(e.getValue());
            for (int target = 0; target < rank && budgetLeft(); target++) {
                HostTensor t = e.getValue(), simpler = switch (target) {
                    case 0 -> HostTensor.zeros(t.shape());
                    case 1 -> HostTensor.full(t.shape(), 1f);
                    default -> rounded(t);
                };
                Case cand;
                try {
                    cand = best.withData(e.getKey(), simpler);
                } catch (RuntimeException ex) {
                    continue;
                }
                if (fails(cand)) { any = true; break; }
            }
        }
        return any;
    }

    /** 0 all zeros, 1 all ones, 2 integers (or non-finite), 3 anything else. */
    private static int simplicity(HostTensor t) {
        boolean zeros = true, ones = true, ints = true;
        for (float v : t.data()) {
            zeros &= v == 0 && Float.floatToRawIntBits(v) == 0;
            ones &= v == 1;
            ints &= !Float.isFinite(v) || v == Math.rint(v);
        }
        return zeros ? 0 : ones ? 1 : ints ? 2 : 3;
    }

    private static HostTensor rounded(HostTensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = (float) Math.rint(d[i]);
        return HostTensor.of(t.shape(), d);
    }

    private boolean fails(Case c) {
        evaluations++;
        Failure f = Property.evaluate(check, c);
        if (f == null || !f.key().equals(key)) return false;
        best = c;
        failure = f;
        steps++;
        return true;
    }
}
