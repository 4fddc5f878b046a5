package dev.kiln.ir.op;

/**
 * An op that carries an {@link Epilogue} — its bias first, then an ordered list of post-ops —
 * TVM's "out-element-wise fusable" ops. Passes ask this trait, not a list of op classes: a new
 * conv-like op that implements it gets epilogue fusion and bias folding. A plain op carries
 * {@link Epilogue#NONE}; fusion gives it a longer one, and it stays the same op.
 */
public sealed interface EpilogueAnchor permits Conv2d, ConvTranspose2d, Linear, MatMul, FusedDwPwConv, FusedExpandDwPwConv, FusedAttention {
    /** What it applies after its main computation and bias. */
    Epilogue epilogue();

    /** This op with the given epilogue instead (its operands must then match: the extra is the last). */
    Op withEpilogue(Epilogue epilogue);

    /** Operand index of the per-channel bias the epilogue adds, or −1 when it has no bias operand to fold a constant into. */
    int biasOperand();

    /** The result axis the bias runs along: channels for convolutions, the last axis for linear. */
    default int biasAxis(int rank) { return 1; }

    /**
     * The output channel that flat element i of weight w (the operand before the bias) feeds, so
     * batch-norm folding scales the right elements: axis 0 for a conv's [O, C/g, KH, KW] and a
     * linear's [O, K]; a transposed conv's [C, O/g, KH, KW] overrides it.
     */
    default int weightOutputChannel(dev.kiln.ir.Shape w, int i) { return i / (w.elementCount() / w.dim(0)); }
}
