package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.CopyKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;

/** Reshape, transpose, slice and concat at any rank up to 6: each is one or more strided copies. */
final class MovementLowering {
    private MovementLowering() {}

    /** The most axes {@link CopyKernel} walks; a higher-rank copy must fold to this many. */
    static final int COPY_RANK = 6;

    /** Copies the index space dims (any rank), reading with rs from (rslot, roff) and writing with ws to (wslot, woff). */
    static void copy(LoweringContext ctx, Node n, String label, int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        Params p = copyParams(dims, rslot, roff, rs, wslot, woff, ws);
        // the node's own result gets its halo zeroed first; partial copies (concat operands) do not
        if (label.isEmpty()) ctx.kernel(n, CopyKernel.class, p, rows(dims));
        else ctx.addKernel(n.describe() + label, CopyKernel.class, p, rows(dims));
    }

    /** A copy that belongs to no node (a graph input moved into its haloed arena buffer), named as given. */
    static void copy(LoweringContext ctx, String name, int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        ctx.addKernel(name, CopyKernel.class, copyParams(dims, rslot, roff, rs, wslot, woff, ws), rows(dims));
    }

    private static Params copyParams(int[] dims, int rslot, int roff, int[] rs, int wslot, int woff, int[] ws) {
        IndexSpace space = new IndexSpace(dims, new int[][]{rs, ws}).fold(COPY_RANK);
        if (space.rank() > COPY_RANK)
            throw new UnsupportedOpException("a copy over " + space + " does not fold to " + COPY_RANK + " axes");
        space = space.padTo(COPY_RANK);
        int[] d = space.dims(), r = space.strides()[0], w = space.strides()[1];
        Params p = Params.of().put("R_SLOT", rslot).put("R_OFF", roff).put("W_SLOT", wslot).put("W_OFF", woff);
        for (int i = 1; i < COPY_RANK; i++) p.put("D" + i, d[i]);
        for (int i = 0; i < COPY_RANK; i++) p.put("R_S" + i, r[i]).put("W_S" + i, w[i]);
        return p;
    }

    /** Tasks of a copy: one per row, i.e. every axis but the last. */
    private static int rows(int[] dims) {
        long rows = 1;
        for (int i = 0; i < dims.length - 1; i++) rows *= dims[i];
        return (int) rows;
    }

    static void reshape(LoweringContext ctx, Node n) {
        // an alias (see MemoryPlan): its placement is already the operand's bytes with its own dims.
        // Reshapes of graph inputs, into graph outputs or across a halo are copies, below.
        if (ctx.plan().isAlias(n.name())) return;
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name());
        if (in.isContiguous()) {
            copy(ctx, n, "", out.dims(), in.slot(), in.offset(), contiguous(out.dims()), out.slot(), out.offset(), out.strides());
        } else if (out.isContiguous()) {
            copy(ctx, n, "", in.dims(), in.slot(), in.offset(), in.strides(), out.slot(), out.offset(), contiguous(in.dims()));
        } else {
            // both views strided (halos) with different dims: gather into contiguous scratch, then scatter
            int scratch = ctx.scratch((int) in.elements());
            copy(ctx, n, " (gather)", in.dims(), in.slot(), in.offset(), in.strides(), LoweringContext.ARENA, scratch, contiguous(in.dims()));
            copy(ctx, n, "", out.dims(), LoweringContext.ARENA, scratch, contiguous(out.dims()), out.slot(), out.offset(), out.strides());
        }
    }

    static void transpose(LoweringContext ctx, Node n, Transpose t) {
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name());
        int[] rs = new int[out.rank()];
        for (int i = 0; i < rs.length; i++) rs[i] = in.strides()[t.perm().get(i)];
        copy(ctx, n, "", out.dims(), in.slot(), in.offset(), rs, out.slot(), out.offset(), out.strides());
    }

    static void slice(LoweringContext ctx, Node n, Slice s) {
        Placement in = ctx.of(n.inputs().getFirst()), out = ctx.of(n.name());
        int[] rs = in.strides().clone();
        int off = in.offset();
        for (int i = 0; i < s.axes().size(); i++) {
            int a = s.axes().get(i);
            off += s.starts().get(i) * in.strides()[a];
            rs[a] = in.strides()[a] * s.steps().get(i);
        }
        copy(ctx, n, "", out.dims(), in.slot(), off, rs, out.slot(), out.offset(), out.strides());
    }

    static void concat(LoweringContext ctx, Node n, Concat c) {
        Placement out = ctx.of(n.name());
        int axis = c.axis(), at = 0;
        if (out.hasHalo()) ctx.zeroHalo(out, "%" + n.name());
        for (int i = 0; i < n.inputs().size(); i++) {
            Placement in = ctx.of(n.inputs().get(i));
            copy(ctx, n, " operand " + i, in.dims(), in.slot(), in.offset(), in.strides(),
                    out.slot(), out.offset() + at * out.strides()[axis], out.strides());
            at += in.dims()[axis];
        }
    }

    /** Row-major strides of dims, i.e. how a contiguous tensor of these dims is laid out. */
    static int[] contiguous(int[] dims) { return Shape.of(dims).strides(); }
}
