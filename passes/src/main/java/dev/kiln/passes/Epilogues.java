package dev.kiln.passes;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Combine;
import dev.kiln.ir.op.EpilogueAnchor;
import dev.kiln.ir.op.Op;

/** The epilogue an op carries, read from its {@link EpilogueAnchor} trait (no list of op classes here). */
final class Epilogues {
    private Epilogues() {}

    record Epilogue(Act act, Combine combine) {
        static final Epilogue NONE = new Epilogue(Act.NONE, Combine.NONE);
    }

    /** The op's current epilogue, or null if the op cannot carry one (it is no {@link EpilogueAnchor}). */
    static Epilogue of(Op op) {
        return op instanceof EpilogueAnchor a ? new Epilogue(a.act(), a.combine()) : null;
    }

    /** The op with its epilogue replaced (a plain conv/linear becomes its fused form). */
    static Op with(Op op, Epilogue e) {
        if (!(op instanceof EpilogueAnchor a)) throw new IllegalArgumentException(op.mnemonic() + " takes no epilogue");
        return a.withEpilogue(e.act(), e.combine());
    }

    /** Operand index of the bias the epilogue adds to, or −1 if there is none to fold a constant into. */
    static int biasIndex(Op op) { return op instanceof EpilogueAnchor a ? a.biasOperand() : -1; }

    /** Axis of the result that the bias runs along: channels for convs, the last axis for linear. */
    static int biasAxis(Op op, int rank) { return op instanceof EpilogueAnchor a ? a.biasAxis(rank) : 1; }
}
