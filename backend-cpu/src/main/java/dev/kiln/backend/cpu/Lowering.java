package dev.kiln.backend.cpu;

import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.*;

/** Which lowering handles which op: the one place the CPU backend learns about every op. */
final class Lowering {
    private Lowering() {}

    /**
     * Lowers one node. A refusal from the helpers below (a placement of too high a rank, an
     * operand that must be constant) is given the node's name and origin here when it lacks
     * them, so every compile error points back at the model.
     */
    static void lower(LoweringContext ctx, Node n) {
        try {
            dispatch(ctx, n);
        } catch (UnsupportedOpException e) {
            if (e.getMessage() != null && e.getMessage().contains(n.describe())) throw e;
            throw new UnsupportedOpException(n.describe() + ": " + e.getMessage(), e);
        }
    }

    private static void dispatch(LoweringContext ctx, Node n) {
        switch (n.op()) {
            case Unary u -> ElementwiseLowering.unary(ctx, n, u.act(), 1f);
            case Scale s -> ElementwiseLowering.unary(ctx, n, Act.NONE, s.factor());
            case Binary b -> ElementwiseLowering.binary(ctx, n, b.kind());
            case Where w -> ElementwiseLowering.where(ctx, n);
            case BatchNorm2d bn -> ElementwiseLowering.batchNorm(ctx, n, bn);
            case Reshape r -> MovementLowering.reshape(ctx, n);
            case Transpose t -> MovementLowering.transpose(ctx, n, t);
            case Slice s -> MovementLowering.slice(ctx, n, s);
            case Concat c -> MovementLowering.concat(ctx, n, c);
            case Pad p -> PadLowering.pad(ctx, n, p);
            case Resize r -> ResizeLowering.resize(ctx, n, r);
            case Gather g -> IndexLowering.gather(ctx, n, g);
            case CumSum c -> IndexLowering.cumSum(ctx, n, c);
            case Softmax s -> ReductionLowering.softmax(ctx, n, s);
            case MaxPool2d p -> ReductionLowering.pool(ctx, n, p.kernel().toArray(), p.stride().toArray(), p.padding().toArray(), true, false);
            case AvgPool2d p -> ReductionLowering.pool(ctx, n, p.kernel().toArray(), p.stride().toArray(), p.padding().toArray(), false, p.countIncludePad());
            case Reduce r -> ReduceLowering.reduce(ctx, n, r);
            case LayerNorm l -> LayerNormLowering.layerNorm(ctx, n, l);
            case ResidualLayerNorm l -> LayerNormLowering.residualLayerNorm(ctx, n, l);
            case Conv2d c -> ConvLowering.conv(ctx, n, c);
            case ConvTranspose2d c -> ConvTransposeLowering.convTranspose(ctx, n, c);
            case FusedDwPwConv f -> ConvLowering.dwPw(ctx, n, f);
            case FusedExpandDwPwConv f -> ExpandDwPwLowering.lower(ctx, n, f);
            case Linear l -> GemmLowering.linear(ctx, n, l.epilogue());
            case MatMul m -> GemmLowering.matmul(ctx, n, m.epilogue());
            case FusedAttention a -> AttentionLowering.attention(ctx, n, a);
            case Lstm l -> LstmLowering.lstm(ctx, n, l);
            case Gru g -> GruLowering.gru(ctx, n, g);
        }
    }
}
