package dev.kiln.backend.cpu;

import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Lstm;

/** LSTM: batched input projection, then the recurrent steps with fused gate math. */
final class LstmLowering {
    private LstmLowering() {}

    static void lstm(LoweringContext ctx, Node n, Lstm l) {
        throw new UnsupportedOpException(n.describe() + ": not lowered yet");
    }
}
