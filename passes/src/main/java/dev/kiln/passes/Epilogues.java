package dev.kiln.passes;

import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.EpilogueAnchor;
import dev.kiln.ir.op.Op;

/** The epilogue an op carries, read from its {@link EpilogueAnchor} trait (no list of op classes here). */
final class Epilogues {
    private Epilogues() {}

    /** The op's current epilogue, or null if the op cannot carry one (it is no {@link EpilogueAnchor}). */
    static Epilogue of(Op op) { return op instanceof EpilogueAnchor a ? a.epilogue() : null; }

    /** The op with its epilogue replaced. */
    static Op with(Op op, Epilogue e) {
        if (!(op instanceof EpilogueAnchor a)) throw new IllegalArgumentException(op.mnemonic() + " takes no epilogue");
        return a.withEpilogue(e);
    }

    /** Operand index of the bias the epilogue adds to, or −1 if there is none to fold a constant into. */
    static int biasIndex(Op op) { return op instanceof EpilogueAnchor a ? a.biasOperand() : -1; }

    /** Axis of the result that the bias runs along: channels for convs, the last axis for linear. */
    static int biasAxis(Op op, int rank) { return op instanceof EpilogueAnchor a ? a.biasAxis(rank) : 1; }
}
