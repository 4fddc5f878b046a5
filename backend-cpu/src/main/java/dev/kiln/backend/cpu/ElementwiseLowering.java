package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.BinaryKernel;
import dev.kiln.backend.cpu.kernels.ChannelAffineKernel;
import dev.kiln.backend.cpu.kernels.UnaryKernel;
import dev.kiln.backend.cpu.kernels.WhereKernel;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;

/** Unary activations, scaling, broadcasting binaries and selects, and inference BatchNorm. */
final class ElementwiseLowering {
    private ElementwiseLowering() {}

    static void unary(LoweringContext ctx, Node n, Act act, float scale) {
        Placement x = ctx.of(n.inputs().getFirst()).as4d(), y = ctx.of(n.name()).as4d();
        Params p = Params.of().placement("X", x).placement("Y", y).put("D1", y.dims()[1]).put("D2", y.dims()[2]).put("D3", y.dims()[3])
                .put("ACT", act).put("SCALE", scale);
        ctx.kernel(n, UnaryKernel.class, p, rows(y));
    }

    static void binary(LoweringContext ctx, Node n, Binary.Kind kind) {
        Placement y = ctx.of(n.name()).as4d();
        Placement a = broadcast(ctx.of(n.inputs().get(0)), y), b = broadcast(ctx.of(n.inputs().get(1)), y);
        Params p = Params.of().placement("A", a).placement("B", b).placement("Y", y)
                .put("D1", y.dims()[1]).put("D2", y.dims()[2]).put("D3", y.dims()[3]).put("OP", code(kind));
        ctx.kernel(n, BinaryKernel.class, p, rows(y));
    }

    private static int code(Binary.Kind kind) {
        return switch (kind) {
            case ADD -> BinaryKernel.ADD;
            case SUB -> BinaryKernel.SUB;
            case MUL -> BinaryKernel.MUL;
            case DIV -> BinaryKernel.DIV;
            case MIN -> BinaryKernel.MIN;
            case MAX -> BinaryKernel.MAX;
            case PRELU -> BinaryKernel.PRELU;
            case EQ -> BinaryKernel.EQ;
            case LT -> BinaryKernel.LT;
            case LE -> BinaryKernel.LE;
            case GT -> BinaryKernel.GT;
            case GE -> BinaryKernel.GE;
        };
    }

    static void where(LoweringContext ctx, Node n) {
        Placement y = ctx.of(n.name()).as4d();
        Params p = Params.of().placement("C", broadcast(ctx.of(n.inputs().get(0)), y)).placement("A", broadcast(ctx.of(n.inputs().get(1)), y))
                .placement("B", broadcast(ctx.of(n.inputs().get(2)), y)).placement("Y", y)
                .put("D1", y.dims()[1]).put("D2", y.dims()[2]).put("D3", y.dims()[3]);
        ctx.kernel(n, WhereKernel.class, p, rows(y));
    }

    /** scale = γ/√(var+ε), shift = β − mean·scale, computed once here in double. */
    static void batchNorm(LoweringContext ctx, Node n, BatchNorm2d bn) {
        HostTensor g = ctx.constant(n.inputs().get(1)), b = ctx.constant(n.inputs().get(2));
        HostTensor m = ctx.constant(n.inputs().get(3)), v = ctx.constant(n.inputs().get(4));
        if (g == null || b == null || m == null || v == null)
            throw new UnsupportedOpException(n.describe() + ": the cpu backend needs batch-norm parameters as constants");
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        if (x.rank() > 4) throw new UnsupportedOpException(n.describe() + ": batch norm of rank " + x.rank());
        int c = g.size();
        float[] scale = new float[c], shift = new float[c];
        for (int i = 0; i < c; i++) {
            double s = g.data()[i] / Math.sqrt((double) v.data()[i] + bn.eps());
            scale[i] = (float) s;
            shift[i] = (float) (b.data()[i] - m.data()[i] * s);
        }
        // channels must land on axis 1 of the 4-d view: pad trailing axes, not leading ones
        Placement x4 = channelsSecond(x), y4 = channelsSecond(y);
        Params p = Params.of().placement("X", x4).placement("Y", y4).put("D1", y4.dims()[1]).put("D2", y4.dims()[2]).put("D3", y4.dims()[3])
                .put("SCALE_SLOT", ctx.weight(scale)).put("SHIFT_SLOT", ctx.weight(shift));
        ctx.kernel(n, ChannelAffineKernel.class, p, rows(y4));
    }

    private static Placement channelsSecond(Placement p) {
        if (p.rank() == 4) return p;
        int[] d = {1, 1, 1, 1}, s = {0, 0, 1, 1};
        for (int i = 0; i < p.rank(); i++) { d[i] = p.dims()[i]; s[i] = p.strides()[i]; }
        for (int i = p.rank(); i < 4; i++) s[i] = 1;
        return new Placement(p.slot(), p.offset(), d, s, new int[4]);
    }

    /** View of an operand as the output's 4-d shape, with stride 0 along broadcast axes. */
    static Placement broadcast(Placement in, Placement out4) {
        Placement a = in.as4d();
        int[] s = a.strides().clone();
        for (int i = 0; i < 4; i++) if (a.dims()[i] == 1 && out4.dims()[i] != 1) s[i] = 0;
        return new Placement(a.slot(), a.offset(), out4.dims(), s, a.halo());
    }

    static int rows(Placement p4) { return p4.dims()[0] * p4.dims()[1] * p4.dims()[2]; }
}
