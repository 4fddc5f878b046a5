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
        Placement[] v = views(ctx, n);
        Placement y = v[0], x = v[1];
        Params p = Params.of().placement("X", x).placement("Y", y).put("D1", y.dims()[1]).put("D2", y.dims()[2]).put("D3", y.dims()[3])
                .put("ACT", act).put("SCALE", scale);
        ctx.kernel(n, UnaryKernel.class, p, rows(y));
    }

    static void binary(LoweringContext ctx, Node n, Binary.Kind kind) {
        Placement[] v = views(ctx, n);
        Placement y = v[0], a = v[1], b = v[2];
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
        Placement[] v = views(ctx, n);
        Placement y = v[0];
        Params p = Params.of().placement("C", v[1]).placement("A", v[2]).placement("B", v[3]).placement("Y", y)
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

    /**
     * The result and each operand (broadcast to the result's shape) as 4-d views of one index
     * space, which is what the element-wise templates walk: [result, operand 0, operand 1, ...].
     * A result of rank ≤ 4 is padded with leading axes; a higher rank is folded
     * ({@link IndexSpace#fold}), and when its operands' strides keep it from folding (a broadcast
     * or strided operand at rank 5 or 6), those operands are first copied into contiguous scratch
     * of the result's shape, after which the whole space folds.
     */
    static Placement[] views(LoweringContext ctx, Node n) {
        Placement y = ctx.of(n.name());
        int[] d = y.dims();
        Placement[] in = new Placement[n.inputs().size()];
        int[][] s = new int[in.length + 1][];
        s[0] = y.strides();
        for (int i = 0; i < in.length; i++) {
            in[i] = ctx.of(n.inputs().get(i));
            s[i + 1] = IndexSpace.broadcastStrides(in[i].dims(), in[i].strides(), d);
        }
        IndexSpace space = new IndexSpace(d, s).fold(4);
        if (space.rank() > 4) {
            int[] dense = MovementLowering.contiguous(d);
            for (int i = 0; i < in.length; i++) {
                if (java.util.Arrays.equals(s[i + 1], dense)) continue;
                int at = ctx.scratch((int) y.elements());
                MovementLowering.copy(ctx, n, " (operand " + i + " made dense)", d, in[i].slot(), in[i].offset(), s[i + 1],
                        LoweringContext.ARENA, at, dense);
                in[i] = new Placement(LoweringContext.ARENA, at, d, dense, new int[4]);
                s[i + 1] = dense;
            }
            space = new IndexSpace(d, s).fold(4);
            if (space.rank() > 4) throw new UnsupportedOpException("an element-wise index space " + space + " does not fold to 4 axes");
        }
        space = space.padTo(4);
        Placement[] out = new Placement[in.length + 1];
        out[0] = new Placement(y.slot(), y.offset(), space.dims(), space.strides()[0], y.halo());
        for (int i = 0; i < in.length; i++)
            out[i + 1] = new Placement(in[i].slot(), in[i].offset(), space.dims(), space.strides()[i + 1], new int[4]);
        return out;
    }

    static int rows(Placement p4) { return p4.dims()[0] * p4.dims()[1] * p4.dims()[2]; }
}
