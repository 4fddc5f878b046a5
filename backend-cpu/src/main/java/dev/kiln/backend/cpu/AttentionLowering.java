package dev.kiln.backend.cpu;

import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.FusedAttention;

/** Streaming (flash) attention. */
final class AttentionLowering {
    private AttentionLowering() {}

    static void attention(LoweringContext ctx, Node n, FusedAttention a) {
        throw new UnsupportedOpException(n.describe() + ": not lowered yet");
    }
}
