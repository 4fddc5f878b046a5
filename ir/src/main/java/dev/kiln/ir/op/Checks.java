package dev.kiln.ir.op;

import dev.kiln.ir.DType;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/** Shared checks of the shape rules; each failure message names the op and the shapes. */
final class Checks {
    private Checks() {}

    static void arity(Op op, List<TensorType> in, int min, int max) {
        if (in.size() < min || in.size() > max)
            throw new ShapeException(op.mnemonic() + " takes " + (min == max ? "" + min : min + ".." + max)
                    + " operands, got " + in.size() + " " + in);
        for (TensorType t : in)
            if (t.dtype() != DType.F32) throw new ShapeException(op.mnemonic() + " supports f32 only, got " + t);
    }

    static void rank(Op op, String what, TensorType t, int rank) {
        if (t.rank() != rank)
            throw new ShapeException(op.mnemonic() + " expects " + what + " of rank " + rank + ", got " + t);
    }

    static void require(boolean ok, Op op, String message) {
        if (!ok) throw new ShapeException(op.mnemonic() + ": " + message);
    }

    static int[] pair(int[] v, String name) {
        if (v.length != 2) throw new IllegalArgumentException(name + " needs 2 values, got " + Arrays.toString(v));
        return v;
    }

    static int[] quad(int[] v, String name) {
        if (v.length != 4) throw new IllegalArgumentException(name + " needs 4 values (top, left, bottom, right), got " + Arrays.toString(v));
        for (int x : v) if (x < 0) throw new IllegalArgumentException(name + " must be non-negative: " + Arrays.toString(v));
        return v;
    }

    static void positive(int[] v, String name) {
        for (int x : v) if (x <= 0) throw new IllegalArgumentException(name + " must be positive: " + Arrays.toString(v));
    }

    /** Output extent of a sliding window: floor((in + pads − dilation·(k−1) − 1) / stride) + 1. */
    static int windowOut(int in, int padBegin, int padEnd, int k, int stride, int dilation) {
        return Math.floorDiv(in + padBegin + padEnd - dilation * (k - 1) - 1, stride) + 1;
    }
}
