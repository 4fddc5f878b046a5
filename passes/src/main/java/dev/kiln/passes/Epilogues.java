package dev.kiln.passes;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Combine;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedConv2d;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedLinear;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Op;

/** Which ops can take a fused epilogue, what epilogue they have, and how to give them another. */
final class Epilogues {
    private Epilogues() {}

    record Epilogue(Act act, Combine combine) {
        static final Epilogue NONE = new Epilogue(Act.NONE, Combine.NONE);
    }

    /** The op's current epilogue, or null if the op cannot carry one. */
    static Epilogue of(Op op) {
        return switch (op) {
            case Conv2d c -> Epilogue.NONE;
            case Linear l -> Epilogue.NONE;
            case FusedConv2d f -> new Epilogue(f.act(), f.combine());
            case FusedLinear f -> new Epilogue(f.act(), f.combine());
            case FusedDwPwConv f -> new Epilogue(f.act(), f.combine());
            case FusedAttention f -> new Epilogue(f.act(), f.combine());
            default -> null;
        };
    }

    /** The op with its epilogue replaced (a plain conv/linear becomes its fused form). */
    static Op with(Op op, Epilogue e) {
        return switch (op) {
            case Conv2d c -> new FusedConv2d(c.stride(), c.padding(), c.dilation(), c.groups(), e.act(), e.combine());
            case Linear l -> new FusedLinear(e.act(), e.combine());
            case FusedConv2d f -> new FusedConv2d(f.stride(), f.padding(), f.dilation(), f.groups(), e.act(), e.combine());
            case FusedLinear f -> new FusedLinear(e.act(), e.combine());
            case FusedDwPwConv f -> new FusedDwPwConv(f.stride(), f.padding(), f.dilation(), f.midAct(), e.act(), e.combine());
            case FusedAttention f -> new FusedAttention(f.scale(), f.hasMask(), f.qChannelMajor(), f.kChannelMajor(),
                    f.vChannelMajor(), f.outChannelMajor(), e.act(), e.combine());
            default -> throw new IllegalArgumentException(op.mnemonic() + " takes no epilogue");
        };
    }

    /** Operand index of the bias the epilogue adds to, or −1 if there is none to fold a constant into. */
    static int biasIndex(Op op) {
        return switch (op) {
            case Conv2d c -> 2;
            case Linear l -> 2;
            case FusedConv2d f -> 2;
            case FusedLinear f -> 2;
            case FusedDwPwConv f -> 4;
            default -> -1;
        };
    }

    /** Axis of the result that the bias runs along: channels for convs, the last axis for linear. */
    static int biasAxis(Op op, int rank) {
        return op instanceof Linear || op instanceof FusedLinear ? rank - 1 : 1;
    }
}
