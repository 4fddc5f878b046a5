package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Pad;
import dev.kiln.ir.op.Slice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX Pad that {@link ImportPatterns} did not fold into the Conv or AveragePool it feeds: a
 * {@link Pad} op (constant, reflect or edge), preceded by a {@link Slice} for negative pads (a
 * crop). pads, constant_value and axes (opset 18) must be constants.
 */
final class PadOp {
    private PadOp() {}

    static void lower(NodeView n) {
        // the mode first: it is checked even when the input is unknown (downstream of another refusal)
        String modeName = n.attrString("mode", "constant");
        Pad.Mode mode = switch (modeName) {
            case "constant" -> Pad.Mode.CONSTANT;
            case "reflect" -> Pad.Mode.REFLECT;
            case "edge" -> Pad.Mode.EDGE;
            default -> throw n.unsupported("pad mode '" + modeName + "' is not supported (constant, reflect and edge are)");
        };
        int[] d = n.dims(0);
        int r = d.length;
        long[] given = n.constIn(1, "pads").longs();
        long[] pads = new long[2 * r];
        if (n.has(3)) {
            long[] axes = n.constIn(3, "axes").longs();
            if (given.length != 2 * axes.length)
                throw n.malformed("pads " + Arrays.toString(given) + " do not give a begin and an end for each of the axes " + Arrays.toString(axes));
            for (int i = 0; i < axes.length; i++) {
                int a = n.axis(axes[i], r, "axis");
                pads[a] = given[i];
                pads[r + a] = given[axes.length + i];
            }
        } else if (given.length != 2 * r) {
            throw n.malformed("pads " + Arrays.toString(given) + " need " + 2 * r + " values (a begin and an end per axis) for an input of rank " + r);
        } else pads = given;
        float value = 0;
        if (n.has(2)) {
            ConstTensor v = n.constIn(2, "constant_value");
            if (v.size() != 1) throw n.malformed("constant_value must be a scalar, got " + v.size() + " values");
            value = (float) v.get(0);
        }
        // a crop (negative pad) first, as a slice; then the growth as a pad
        List<Integer> axes = new ArrayList<>();
        int[] starts, ends, grow = new int[2 * r];
        boolean crops = false;
        for (int a = 0; a < r; a++) {
            long b = pads[a], e = pads[r + a];
            if (b < 0 || e < 0) {
                if (mode != Pad.Mode.CONSTANT && (b > 0 || e > 0))
                    throw n.unsupported("pads " + Arrays.toString(pads) + " crop one side of axis " + a + " and " + modeName
                            + "-pad the other; Kiln imports crops and " + modeName + " pads only on separate axes");
                if (-Math.min(b, 0) - Math.min(e, 0) >= d[a])
                    throw n.unsupported("pads " + Arrays.toString(pads) + " crop all of axis " + a + " of " + Arrays.toString(d)
                            + "; Kiln has no empty tensors");
                crops = true;
            }
            grow[a] = (int) Math.max(b, 0);
            grow[r + a] = (int) Math.max(e, 0);
        }
        String x = n.ir(0);
        if (crops) {
            for (int a = 0; a < r; a++) if (pads[a] < 0 || pads[r + a] < 0) axes.add(a);
            starts = new int[axes.size()];
            ends = new int[axes.size()];
            int[] ax = new int[axes.size()], steps = new int[axes.size()];
            for (int i = 0; i < ax.length; i++) {
                int a = axes.get(i);
                ax[i] = a;
                starts[i] = (int) -Math.min(pads[a], 0);
                ends[i] = d[a] + (int) Math.min(pads[r + a], 0);
                steps[i] = 1;
            }
            Slice crop = new Slice(ax, starts, ends, steps);
            if (Arrays.stream(grow).allMatch(p -> p == 0)) { n.emitOut(crop, List.of(x)); return; }
            x = n.emit("crop", crop, List.of(x));
        } else if (Arrays.stream(grow).allMatch(p -> p == 0)) {
            n.set(0, n.in(0));
            return;
        }
        n.emitOut(new Pad(mode, grow, value), List.of(x));
    }
}
