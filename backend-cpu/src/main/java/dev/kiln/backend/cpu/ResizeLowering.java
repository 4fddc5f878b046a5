package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.ResizeKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Resize;

/** Resize: the op's taps become compile-time tables (weights), read by one {@link ResizeKernel}. */
final class ResizeLowering {
    private ResizeLowering() {}

    static void resize(LoweringContext ctx, Node n, Resize r) {
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        boolean twoAxes = r.size().size() == 2;
        int ih = twoAxes ? x.dims()[2] : 1, iw = x.dims()[x.rank() - 1];
        int oh = twoAxes ? y.dims()[2] : 1, ow = y.dims()[y.rank() - 1];
        Resize.Taps ty = twoAxes ? r.taps(0, ih, oh) : new Resize.Taps(new int[1], new int[1], new double[1]);
        Resize.Taps tx = r.taps(r.size().size() - 1, iw, ow);
        // rank 3 [N,C,W] is [N,C,1,W]: its one row has stride W (any value works, the row index is 0)
        Placement x4 = twoAxes ? x : rank3(x), y4 = twoAxes ? y : rank3(y);
        Params p = Params.of().placement("X", x4).placement("Y", y4)
                .put("D1", y4.dims()[1]).put("D2", y4.dims()[2]).put("D3", y4.dims()[3])
                .put("LINEAR", r.mode() == Resize.Mode.LINEAR)
                .put("RY0", ctx.weight(floats(ty.i0()))).put("RY1", ctx.weight(floats(ty.i1()))).put("WY", ctx.weight(floats(ty.w())))
                .put("CX0", ctx.weight(floats(tx.i0()))).put("CX1", ctx.weight(floats(tx.i1()))).put("WX", ctx.weight(floats(tx.w())));
        ctx.kernel(n, ResizeKernel.class, p, y4.dims()[0] * y4.dims()[1] * y4.dims()[2]);
    }

    private static Placement rank3(Placement p) {
        int[] d = p.dims(), s = p.strides();
        return new Placement(p.slot(), p.offset(), new int[]{d[0], d[1], 1, d[2]}, new int[]{s[0], s[1], d[2], s[2]}, new int[4]);
    }

    private static float[] floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return f;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
