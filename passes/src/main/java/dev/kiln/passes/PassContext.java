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
        report.add(new FusionReport.Decision(currentPass, where(anchor), FusionReport.Kind.FUSED, what, bytesSaved));
    }

    /** A candidate at anchor was not rewritten: the kind of reason, and the reason in words. */
    public void refused(Node anchor, FusionReport.Kind kind, String reason) { refused(anchor, new Refusal(kind, reason)); }

    void refused(Node anchor, Refusal why) {
        report.add(new FusionReport.Decision(currentPass, where(anchor), why.kind(), why.detail(), 0));
    }

    /** The pass would have fired at where, but the pipeline declined it, for that reason. */
    void declined(String pass, String where, String reason) {
        report.add(new FusionReport.Decision(pass, where, FusionReport.Kind.DECLINED_BY_BACKEND, reason, 0));
    }

    static String where(Node n) {
        return (n.origin().isEmpty() ? "" : n.origin() + " ") + "(%" + n.name() + ")";
    }
}
