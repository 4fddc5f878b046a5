package dev.kiln.ir.op;

/**
 * How an op computes its result from its operands, in the spirit of TVM's op patterns: what a
 * fusion or a test needs to know without a list of op classes of its own. One exhaustive switch,
 * so a new op is a compile error here and nowhere else.
 */
public enum OpPattern {
    /** Each result element is one operand element, moved (reshape, transpose, slice, concat): exact. */
    INJECTIVE,
    /** Each result element is a function of the same element of each operand (broadcast included). */
    ELEMENTWISE,
    /** Each result element picks one element of a window of its operand (max pooling, max/min reductions) or of one of its operands (where): exact. */
    SELECT,
    /** Each result element sums many products or terms: rounding accumulates (convolution, GEMM, pooling, softmax, ...). */
    REDUCTION;

    public static OpPattern of(Op op) {
        return switch (op) {
            case Reshape r -> INJECTIVE;
            case Transpose t -> INJECTIVE;
            case Slice s -> INJECTIVE;
            case Concat c -> INJECTIVE;
            case Pad p -> INJECTIVE;
            case Resize r -> r.mode() == Resize.Mode.NEAREST ? SELECT : REDUCTION;
            case Unary u -> ELEMENTWISE;
            case Binary b -> ELEMENTWISE;
            case Scale s -> ELEMENTWISE;
            case MaxPool2d m -> SELECT;
            case Where w -> SELECT;
            case Gather g -> SELECT;
            case CumSum c -> REDUCTION;
            case Conv2d c -> REDUCTION;
            case ConvTranspose2d c -> REDUCTION;
            case FusedDwPwConv f -> REDUCTION;
            case FusedExpandDwPwConv f -> REDUCTION;
            case Linear l -> REDUCTION;
            case MatMul m -> REDUCTION;
            case FusedAttention f -> REDUCTION;
            case BatchNorm2d b -> REDUCTION;
            case Softmax s -> REDUCTION;
            case AvgPool2d a -> REDUCTION;
            case Reduce r -> r.kind().selects() ? SELECT : REDUCTION;
            case LayerNorm l -> REDUCTION;
            case ResidualLayerNorm l -> REDUCTION;
            case Lstm l -> REDUCTION;
            case Gru g -> REDUCTION;
        };
    }

    /** Whether the result is exactly some operand element (no rounding at all). */
    public boolean exact() { return this == INJECTIVE || this == SELECT; }
}
