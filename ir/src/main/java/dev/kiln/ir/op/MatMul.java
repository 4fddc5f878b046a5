package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Matrix product with NumPy batch semantics: a[..., M, K] · b[..., K, N] = [..., M, N],
 * the leading (batch) dimensions broadcast against each other. Both operands rank ≥ 2.
 * Then its epilogue, whose extra operand (result-shaped) is a third operand. It has no bias.
 */
public record MatMul(Epilogue epilogue) implements Op, EpilogueAnchor {
    @Override public MatMul withEpilogue(Epilogue e) { return new MatMul(e); }
    /** No bias operand: a constant added after a matmul stays a separate add. */
    @Override public int biasOperand() { return -1; }
    @Override public int biasAxis(int rank) { return rank - 1; }

    /** A plain matrix product. */
    public MatMul() { this(Epilogue.NONE); }

    public MatMul { java.util.Objects.requireNonNull(epilogue, "epilogue"); }

    @Override public TensorType inferType(List<TensorType> in) {
        if (epilogue.hasExtra()) {
            Checks.arity(this, in, 3, 3);
            TensorType out = new MatMul().inferType(in.subList(0, 2));
            epilogue.checkExtra(this, in, out);
            return out;
        }
        Checks.arity(this, in, 2, 2);
        TensorType a = in.get(0), b = in.get(1);
        Checks.require(a.rank() >= 2 && b.rank() >= 2, this, "operands must have rank >= 2, got " + a + " and " + b);
        Checks.require(a.dim(-1) == b.dim(-2), this,
                "inner dimensions differ: " + a + " · " + b + " (" + a.dim(-1) + " vs " + b.dim(-2) + ")");
        int[] batch = Broadcast.shape(this, batchDims(a.shape()), batchDims(b.shape()));
        int[] out = new int[batch.length + 2];
        System.arraycopy(batch, 0, out, 0, batch.length);
        out[batch.length] = a.dim(-2);
        out[batch.length + 1] = b.dim(-1);
        return TensorType.f32(out);
    }

    static int[] batchDims(Shape s) {
        int[] d = new int[s.rank() - 2];
        for (int i = 0; i < d.length; i++) d[i] = s.dim(i);
        return d;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        if (!epilogue.isNone())
            return epilogue.apply(new MatMul().evaluate(in.subList(0, 2)), epilogue.hasExtra() ? in.getLast() : null);
        HostTensor a = in.get(0), b = in.get(1);
        int m = a.shape().dim(-2), k = a.shape().dim(-1), n = b.shape().dim(-1);
        int[] batch = batchDims(out);
        Shape batchShape = Shape.of(batch);
        int batches = batchShape.elementCount();
        int[] aBatch = batchDims(a.shape()), bBatch = batchDims(b.shape());
        float[] y = new float[out.elementCount()];
        int[] idx = new int[batch.length];
        for (int p = 0; p < batches; p++) {
            Broadcast.unravel(p, batch, idx);
            int ao = Broadcast.offset(idx, aBatch) * m * k, bo = Broadcast.offset(idx, bBatch) * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < k; q++) acc += (double) a.data()[ao + i * k + q] * b.data()[bo + q * n + j];
                    y[(p * m + i) * n + j] = (float) acc;
                }
        }
        return HostTensor.of(out, y);
    }
}
