package dev.kiln.ir.op;

/**
 * An op that carries a fused epilogue — bias, then a residual ADD, the activation, a gate MUL
 * ({@link Combine}) — TVM's "out-element-wise fusable" ops. Passes ask this trait, not a list of
 * op classes: a new conv-like op that implements it gets epilogue fusion and bias folding.
 * A plain {@link Conv2d} or {@link Linear} carries the empty epilogue and becomes its fused form
 * when given another.
 */
public sealed interface EpilogueAnchor permits Conv2d, Linear, FusedConv2d, FusedLinear, FusedDwPwConv, FusedAttention {
    /** The activation it applies now ({@link Act#NONE} for none). */
    Act act();

    /** How its optional extra operand (its last) joins the epilogue. */
    Combine combine();

    /** This op with the given epilogue instead. */
    Op withEpilogue(Act act, Combine combine);

    /** Operand index of the per-channel bias the epilogue adds, or −1 when it has no bias operand to fold a constant into. */
    int biasOperand();

    /** The result axis the bias runs along: channels for convolutions, the last axis for linear. */
    default int biasAxis(int rank) { return 1; }
}
