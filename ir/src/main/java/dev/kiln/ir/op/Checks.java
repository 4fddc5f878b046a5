package dev.kiln.ir.op;

import dev.kiln.ir.DType;
import dev.kiln.ir.Ints;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Shared checks of the shape rules; each failure message names the op and the shapes. */
final class Checks {
    private Checks() {}

    static void arity(Op op, List<TensorType> in, int min, int max) {
        if (in.size() < min || in.size() > max)
            throw new ShapeException(op.mnemonic() + " takes " + (min == max ? "" + min : min + ".." + max)
                    + " operands, got " + in.size() + " " + in);
        for (TensorType t : in)
            // integer tensors are carried as exact f32 values (see DType), so every op computes on them
            if (t.dtype() != DType.F32 && !t.dtype().isInteger()) throw new ShapeException(op.mnemonic() + " supports f32, i32 and i64 only, got " + t);
    }

    static void rank(Op op, String what, TensorType t, int rank) {
        if (t.rank() != rank)
            throw new ShapeException(op.mnemonic() + " expects " + what + " of rank " + rank + ", got " + t);
    }

    static void require(boolean ok, Op op, String message) {
        if (!ok) throw new ShapeException(op.mnemonic() + ": " + message);
    }

    static Ints pair(Ints v, String name) {
        java.util.Objects.requireNonNull(v, name);
        if (v.size() != 2) throw new IllegalArgumentException(name + " needs 2 values, got " + v);
        return v;
    }

    static Ints quad(Ints v, String name) {
        java.util.Objects.requireNonNull(v, name);
        if (v.size() != 4) throw new IllegalArgumentException(name + " needs 4 values (top, left, bottom, right), got " + v);
        if (v.stream().anyMatch(x -> x < 0)) throw new IllegalArgumentException(name + " must be non-negative: " + v);
        return v;
    }

    static void positive(Ints v, String name) {
        if (v.stream().anyMatch(x -> x <= 0)) throw new IllegalArgumentException(name + " must be positive: " + v);
    }

    /** Output extent of a sliding window: floor((in + pads − dilation·(k−1) − 1) / stride) + 1. */
    static int windowOut(int in, int padBegin, int padEnd, int k, int stride, int dilation) {
        return Math.floorDiv(in + padBegin + padEnd - dilation * (k - 1) - 1, stride) + 1;
    }
}
