package dev.kiln.passes;

import dev.kiln.ir.Node;

/** What a pass may record while it runs: fusion decisions (made and refused) and counts. */
public final class PassContext {
    private final FusionReport report = new FusionReport();
    private String currentPass = "";

    void enter(String pass) { currentPass = pass; }

    public FusionReport report() { return report; }

    /** A rewrite fired at anchor, replacing the listed ops, saving that many intermediate bytes. */
    public void fused(Node anchor, String what, long bytesSaved) {
        report.add(new FusionReport.Decision(currentPass, where(anchor), true, what, bytesSaved));
    }

    /** A candidate at anchor was not rewritten, and why. */
    public void refused(Node anchor, String reason) {
        report.add(new FusionReport.Decision(currentPass, where(anchor), false, reason, 0));
    }

    static String where(Node n) {
        return (n.origin().isEmpty() ? "" : n.origin() + " ") + "(%" + n.name() + ")";
    }
}
