package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.ReduceKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Reduce;

import java.util.ArrayList;
import java.util.List;

/**
 * Reduce: the input's axes are first simplified (extent-1 axes dropped, neighbours that are both
 * reduced or both kept and laid out contiguously merged), so a mean over H,W of a contiguous NCHW
 * tensor becomes one row of H·W per plane, then {@link ReduceKernel} runs one of its two forms
 * (innermost axis reduced: a task per output element; innermost axis kept: a task per piece of an
 * output line, vectorised along it).
 */
final class ReduceLowering {
    private ReduceLowering() {}

    /** One axis of the simplified view: extent, input stride, output stride (0 when reduced). */
    private record Axis(int extent, int xs, int ys, boolean reduced) {}

    static void reduce(LoweringContext ctx, Node n, Reduce op) {
        Placement x = ctx.of(n.inputs().getFirst()), y = ctx.of(n.name());
        List<Axis> axes = new ArrayList<>();
        long count = 1;
        for (int i = 0, k = 0; i < x.rank(); i++) {
            boolean red = op.reduces(i);
            int ys = 0;
            if (!red || op.keepDims()) { if (!red) ys = y.strides()[k]; k++; }
            if (red) count *= x.dims()[i];
            if (x.dims()[i] != 1) axes.add(new Axis(x.dims()[i], x.strides()[i], ys, red));
        }
        List<Axis> merged = new ArrayList<>();
        for (Axis a : axes) {
            Axis last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && last.reduced() == a.reduced() && last.xs() == a.xs() * a.extent()
                    && (a.reduced() || last.ys() == a.ys() * a.extent()))
                merged.set(merged.size() - 1, new Axis(last.extent() * a.extent(), a.xs(), a.ys(), a.reduced()));
            else merged.add(a);
        }
        if (merged.size() > 4)
            throw new UnsupportedOpException("reduce over axes " + op.axes() + " of " + n.inputs().getFirst() + " " + java.util.Arrays.toString(x.dims())
                    + " needs " + merged.size() + " loop axes after merging; the cpu backend handles 4");
        while (merged.size() < 4) merged.addFirst(new Axis(1, 0, 0, false));
        Axis inner = merged.get(3);
        int tasks = 1;
        Params p = Params.of().put("X_SLOT", x.slot()).put("X_OFF", x.offset()).put("Y_SLOT", y.slot()).put("Y_OFF", y.offset());
        for (int i = 0; i < 3; i++) {
            Axis a = merged.get(i);
            p.put("XS" + i, a.xs()).put("YS" + i, a.ys()).put("L" + i, a.reduced() ? a.extent() : 1);
            if (i > 0) p.put("T" + i, a.reduced() ? 1 : a.extent());
            if (!a.reduced()) tasks *= a.extent();
        }
        int len = inner.extent(), pieces = 1, piece = len;
        if (!inner.reduced() && tasks < 16 && len >= 256) {
            // few long output lines: split them so both threads get work; pieces are whole vectors of any width up to 64 lanes
            pieces = Math.min(16 / tasks, len / 128);
            piece = (len + pieces - 1) / pieces;
            piece = (piece + 63) / 64 * 64;
            pieces = (len + piece - 1) / piece;
        }
        p.put("XS3", inner.xs()).put("YS3", inner.ys()).put("LEN", len).put("INNER", inner.reduced())
                .put("VEC", inner.xs() == 1 && (inner.reduced() || inner.ys() == 1))
                .put("PIECES", pieces).put("PIECE", piece)
                .put("OP", opCode(op.kind())).put("FIN", finCode(op.kind())).put("INIT", op.kind().identity())
                .put("SCALE", 1.0 / count);
        ctx.kernel(n, ReduceKernel.class, p, tasks * pieces);
    }

    private static int opCode(Reduce.Kind k) {
        return switch (k) {
            case SUM, MEAN, LOG_SUM -> 0;
            case MAX -> 1;
            case MIN -> 2;
            case PROD -> 3;
            case L1 -> 4;
            case L2, SUM_SQUARE -> 5;
            case LOG_SUM_EXP -> 6;
        };
    }

    private static int finCode(Reduce.Kind k) {
        return switch (k) {
            case SUM, MAX, MIN, PROD, L1 -> 0;
            case MEAN -> 1;
            case L2 -> 2;
            case LOG_SUM -> 3;
            case LOG_SUM_EXP -> 4;
            case SUM_SQUARE -> 5;
        };
    }
}
