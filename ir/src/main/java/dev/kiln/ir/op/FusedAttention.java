package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Scaled dot-product attention as one op: out = softmax(scale · Q·Kᵀ [+ mask]) · V, softmax over
 * the key axis, then the epilogue.
 *
 * <p>Logical operands are Q[B,M,D], K[B,N,D], V[B,N,E]; result [B,M,E]. Each of Q, K, V and the
 * result may instead be stored channel-major ([B,D,M] etc.), as SAGAN's 2-D attention keeps
 * them after its 1×1 convs; the *ChannelMajor flags say which, so no transpose is ever
 * materialised. Operands: q, k, v, then mask[B,M,N] (logical layout) when hasMask, then extra
 * (result-shaped, in the result's stored layout) when the epilogue reads one.
 *
 * <p>The semantics are row-wise in M and associative over N, so a backend may stream K/V in
 * tiles with an online softmax and never hold the M×N score matrix.
 */
public record FusedAttention(float scale, boolean hasMask, boolean qChannelMajor, boolean kChannelMajor,
                             boolean vChannelMajor, boolean outChannelMajor,
                             Epilogue epilogue) implements Op, EpilogueAnchor {
    @Override public FusedAttention withEpilogue(Epilogue e) {
        return new FusedAttention(scale, hasMask, qChannelMajor, kChannelMajor, vChannelMajor, outChannelMajor, e);
    }

    public FusedAttention { java.util.Objects.requireNonNull(epilogue, "epilogue"); }

    /** No bias operand: a constant added after attention stays a separate add. */
    @Override public int biasOperand() { return -1; }

    @Override public TensorType inferType(List<TensorType> in) {
        int n = 3 + (hasMask ? 1 : 0) + epilogue.extraOperands();
        Checks.arity(this, in, n, n);
        for (int i = 0; i < 3; i++) Checks.rank(this, "q/k/v", in.get(i), 3);
        TensorType q = in.get(0), k = in.get(1), v = in.get(2);
        int b = q.dim(0), m = rows(q, qChannelMajor), d = cols(q, qChannelMajor);
        int nk = rows(k, kChannelMajor), dk = cols(k, kChannelMajor), nv = rows(v, vChannelMajor), e = cols(v, vChannelMajor);
        Checks.require(k.dim(0) == b && v.dim(0) == b, this, "batch sizes differ: q " + q + ", k " + k + ", v " + v);
        Checks.require(dk == d, this, "q " + q + " and k " + k + " differ in head size (" + d + " vs " + dk + ")");
        Checks.require(nv == nk, this, "k " + k + " and v " + v + " differ in sequence length (" + nk + " vs " + nv + ")");
        if (hasMask) Checks.require(in.get(3).equals(TensorType.f32(b, m, nk)), this,
                "mask " + in.get(3) + " must be [" + b + "," + m + "," + nk + "]");
        TensorType out = outChannelMajor ? TensorType.f32(b, e, m) : TensorType.f32(b, m, e);
        epilogue.checkExtra(this, in, out);
        return out;
    }

    private static int rows(TensorType t, boolean channelMajor) { return channelMajor ? t.dim(2) : t.dim(1); }
    private static int cols(TensorType t, boolean channelMajor) { return channelMajor ? t.dim(1) : t.dim(2); }

    /** Element (row, col) of a logically [B,rows,cols] operand stored in either layout. */
    private static double at(HostTensor t, boolean channelMajor, int b, int row, int col) {
        int d1 = t.shape().dim(1), d2 = t.shape().dim(2);
        return channelMajor ? t.data()[(b * d1 + col) * d2 + row] : t.data()[(b * d1 + row) * d2 + col];
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape outShape = inferType(in.stream().map(HostTensor::type).toList()).shape();
        HostTensor q = in.get(0), k = in.get(1), v = in.get(2), mask = hasMask ? in.get(3) : null;
        HostTensor extra = epilogue.hasExtra() ? in.getLast() : null;
        int bs = q.shape().dim(0), m = rows(q.type(), qChannelMajor), d = cols(q.type(), qChannelMajor);
        int n = rows(k.type(), kChannelMajor), e = cols(v.type(), vChannelMajor);
        float[] y = new float[outShape.elementCount()];
        double[] s = new double[n];
        for (int b = 0; b < bs; b++)
            for (int i = 0; i < m; i++) {
                // rounded to f32 where the unfused chain holds f32 tensors (the scores, the probabilities), so the
                // fused op means exactly its chain: a probability below f32's range is 0, and 0·∞ is NaN, as in PyTorch
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += at(q, qChannelMajor, b, i, c) * at(k, kChannelMajor, b, j, c);
                    float score = (float) dot * scale;
                    if (mask != null) score += mask.data()[(b * m + i) * n + j];
                    s[j] = score;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                for (int j = 0; j < n; j++) s[j] = (float) (s[j] / sum);
                for (int c = 0; c < e; c++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += s[j] * at(v, vChannelMajor, b, j, c);
                    int o = outChannelMajor ? (b * e + c) * m + i : (b * m + i) * e + c;
                    y[o] = (float) epilogue.apply(acc, extra == null ? 0 : extra.data()[o]);
                }
            }
        return HostTensor.of(outShape, y);
    }
}
