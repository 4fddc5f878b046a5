package dev.kiln.passes;

import java.util.ArrayList;
import java.util.List;

/**
 * Every fusion decision of a compilation, in the manner of XLA's: where a rewrite fired, what
 * it replaced and the intermediate bytes it saves; where a candidate was refused or declined,
 * why. Each decision has a {@link Kind} for programs and a detail for people.
 */
public final class FusionReport {
    /** What was decided. Everything but {@link #FUSED} and {@link #DECLINED_BY_BACKEND} says why a candidate did not fit. */
    public enum Kind {
        /** The rewrite fired. */
        FUSED,
        /** The rewrite would have fired, but the target's backend declined the pass (it does not pay there). */
        DECLINED_BY_BACKEND,
        /** A value the fusion would keep inside one kernel has another reader. */
        SECOND_CONSUMER,
        /** A value the fusion would keep inside one kernel is a graph output. */
        GRAPH_OUTPUT,
        /** The candidate's result is read by nothing, so there is nothing to fuse it into. */
        UNUSED,
        /** The ops around the candidate are not the pattern (e.g. a softmax not between Q·Kᵀ and a matmul with V). */
        NOT_THE_PATTERN,
        /** A depthwise conv's reader (or the 1×1 conv producing its input, an expansion candidate) is not a 1×1, stride-1, unpadded, ungrouped conv. */
        NOT_POINTWISE,
        /** Ranks, shapes or axes do not fit the fused op. */
        SHAPE_MISMATCH,
        /** The fused op applies its parts in a fixed order, one of each, and this one has no place in it. */
        ORDER,
        /** The candidate overlaps a fusion the same pass already made. */
        OVERLAP,
        /** A weight or parameter the rewrite computes with at compile time is not a constant with data bound. */
        NOT_CONSTANT,
        /** The rewrite would change results in f32 (a folded weight under- or overflows). */
        PRECISION
    }

    public record Decision(String pass, String where, Kind kind, String detail, long bytesSaved) {
        public boolean fused() { return kind == Kind.FUSED; }

        @Override public String toString() {
            return fused() ? String.format("%-26s %-36s fused: %s (saves %s)", pass, where, detail, bytes(bytesSaved))
                           : String.format("%-26s %-36s not fused: %s", pass, where, detail);
        }
    }

    private final List<Decision> decisions = new ArrayList<>();

    void add(Decision d) { decisions.add(d); }

    public List<Decision> decisions() { return List.copyOf(decisions); }
    public List<Decision> fused() { return of(Kind.FUSED); }
    public List<Decision> declined() { return of(Kind.DECLINED_BY_BACKEND); }

    /** Candidates that did not fit the pattern (neither fused nor declined). */
    public List<Decision> refused() {
        return decisions.stream().filter(d -> !d.fused() && d.kind() != Kind.DECLINED_BY_BACKEND).toList();
    }

    public List<Decision> of(Kind kind) { return decisions.stream().filter(d -> d.kind() == kind).toList(); }

    public long bytesSaved() { return fused().stream().mapToLong(Decision::bytesSaved).sum(); }

    public long count(String pass) { return fused().stream().filter(d -> d.pass().equals(pass)).count(); }

    @Override public String toString() {
        StringBuilder b = new StringBuilder();
        for (Decision d : decisions) b.append(d).append('\n');
        int declined = declined().size();
        b.append(String.format("%d fusions, %d refused%s, %s of intermediates never materialised%n", fused().size(), refused().size(),
                declined == 0 ? "" : ", " + declined + " declined by the backend", bytes(bytesSaved())));
        return b.toString();
    }

    static String bytes(long n) { return dev.kiln.ir.MemoryPlan.bytes(n); }
}
