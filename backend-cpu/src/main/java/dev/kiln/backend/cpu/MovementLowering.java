package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.CopyKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;

/** Reshape, transpose, slice and concat: each is one or more strided copies. */
final class MovementLowering {
    private MovementLowering() {}

    /** Copies the 4-d index space dims, reading with rs from (rslot, roff) and writing with ws to (wslot, woff). */
    static void copy(LoweringContext ctx, Node n, String label, int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        Params p = copyParams(dims, rslot, roff, rs, wslot, woff, ws);
        // the node's own result gets its halo zeroed first; partial copies (concat operands) do not
        if (label.isEmpty()) ctx.kernel(n, CopyKernel.class, p, dims[0] * dims[1] * dims[2]);
        else ctx.addKernel(n.describe() + label, CopyKernel.class, p, dims[0] * dims[1] * dims[2]);
    }

    /** A copy that belongs to no node (a graph input moved into its haloed arena buffer), named as given. */
    static void copy(LoweringContext ctx, String name, int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        ctx.addKernel(name, CopyKernel.class, copyParams(dims, rslot, roff, rs, wslot, woff, ws), dims[0] * dims[1] * dims[2]);
    }

    private static Params copyParams(int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        Params p = Params.of().put("R_SLOT", rslot).put("R_OFF", roff).put("W_SLOT", wslot).put("W_OFF", woff)
                .put("D1", dims[1]).put("D2", dims[2]).put("D3", dims[3]);
        for (int i = 0; i < 4; i++) p.put("R_S" + i, rs[i]).put("W_S" + i, ws[i]);
        return p;
    }

    static void reshape(LoweringContext ctx, Node n) {
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name());
        Placement i4 = in.as4d(), o4 = out.as4d();
        if (in.isContiguous()) {
            copy(ctx, n, "", o4.dims(), in.slot(), in.offset(), contiguous(o4.dims()), o4.slot(), o4.offset(), o4.strides());
        } else if (out.isContiguous()) {
            copy(ctx, n, "", i4.dims(), i4.slot(), i4.offset(), i4.strides(), out.slot(), out.offset(), contiguous(i4.dims()));
        } else {
            // both views strided (halos) with different dims: gather into contiguous scratch, then scatter
            int scratch = ctx.scratch((int) in.elements());
            copy(ctx, n, " (gather)", i4.dims(), i4.slot(), i4.offset(), i4.strides(), LoweringContext.ARENA, scratch, contiguous(i4.dims()));
            copy(ctx, n, "", o4.dims(), LoweringContext.ARENA, scratch, contiguous(o4.dims()), o4.slot(), o4.offset(), o4.strides());
        }
    }

    static void transpose(LoweringContext ctx, Node n, Transpose t) {
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name()).as4d();
        int k = 4 - t.perm().size();
        int[] rs = new int[4];
        Placement in4 = in.as4d();
        for (int i = 0; i < 4; i++) rs[i] = i < k ? 0 : in4.strides()[k + t.perm().get(i - k)];
        copy(ctx, n, "", out.dims(), in.slot(), in.offset(), rs, out.slot(), out.offset(), out.strides());
    }

    static void slice(LoweringContext ctx, Node n, Slice s) {
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name()).as4d();
        int k = 4 - in.rank();
        Placement in4 = in.as4d();
        int[] rs = in4.strides().clone();
        int off = in.offset();
        for (int i = 0; i < s.axes().size(); i++) {
            int a = s.axes().get(i) + k;
            off += s.starts().get(i) * in4.strides()[a];
            rs[a] = in4.strides()[a] * s.steps().get(i);
        }
        copy(ctx, n, "", out.dims(), in.slot(), off, rs, out.slot(), out.offset(), out.strides());
    }

    static void concat(LoweringContext ctx, Node n, Concat c) {
        Placement out = ctx.of(n.name());
        int k = 4 - out.rank(), axis = c.axis() + k, at = 0;
        Placement out4 = out.as4d();
        if (out.hasHalo()) ctx.zeroHalo(out, "%" + n.name());
        for (int i = 0; i < n.inputs().size(); i++) {
            Placement in4 = ctx.of(n.inputs().get(i)).as4d();
            copy(ctx, n, " operand " + i, in4.dims(), in4.slot(), in4.offset(), in4.strides(),
                    out4.slot(), out4.offset() + at * out4.strides()[axis], out4.strides());
            at += in4.dims()[axis];
        }
    }

    /** Row-major strides of dims, i.e. how a contiguous tensor of these dims is laid out. */
    static int[] contiguous(int[] dims4) { return Shape.of(dims4).strides(); }
}
