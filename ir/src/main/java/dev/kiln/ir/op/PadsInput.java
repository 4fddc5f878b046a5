package dev.kiln.ir.op;

import dev.kiln.ir.Ints;

/**
 * An op that reads its first operand through zero padding (a convolution's window), so the
 * memory plan gives that operand a halo of zeros and the kernel needs no bounds checks.
 */
public sealed interface PadsInput permits Conv2d, FusedDwPwConv {
    /** [top, left, bottom, right] zeros around the first operand's H×W planes. */
    Ints padding();
}
