package dev.kiln.passes;

import java.util.ArrayList;
import java.util.List;

/**
 * Every fusion decision of a compilation, in the manner of XLA's: where a rewrite fired, what
 * it replaced and the intermediate bytes it saves; where a candidate was refused, why.
 */
public final class FusionReport {
    public record Decision(String pass, String where, boolean fused, String detail, long bytesSaved) {
        @Override public String toString() {
            return fused ? String.format("%-26s %-36s fused: %s (saves %s)", pass, where, detail, bytes(bytesSaved))
                         : String.format("%-26s %-36s not fused: %s", pass, where, detail);
        }
    }

    private final List<Decision> decisions = new ArrayList<>();

    void add(Decision d) { decisions.add(d); }

    public List<Decision> decisions() { return List.copyOf(decisions); }
    public List<Decision> fused() { return decisions.stream().filter(Decision::fused).toList(); }
    public List<Decision> refused() { return decisions.stream().filter(d -> !d.fused()).toList(); }

    public long bytesSaved() { return fused().stream().mapToLong(Decision::bytesSaved).sum(); }

    public long count(String pass) { return fused().stream().filter(d -> d.pass().equals(pass)).count(); }

    @Override public String toString() {
        StringBuilder b = new StringBuilder();
        for (Decision d : decisions) b.append(d).append('\n');
        b.append(String.format("%d fusions, %d refused, %s of intermediates never materialised%n",
                fused().size(), refused().size(), bytes(bytesSaved())));
        return b.toString();
    }

    static String bytes(long n) { return dev.kiln.ir.MemoryPlan.bytes(n); }
}
