package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Scaled dot-product attention as one op: out = softmax(scale · Q·Kᵀ [+ mask] [causal]) · V,
 * softmax over the key axis, then the epilogue.
 *
 * <p>Logical operands are Q[.., M, D], K[.., N, D], V[.., N, E] and the result [.., M, E], with
 * the batch axes [G] (rank 3) or [B, H] (rank 4, one attention per head). Each of them is stored
 * in its {@link AttentionLayout}, so head split/merge transposes and SAGAN's channel-major maps are
 * only addressing. Operands: q, k, v, then the mask when hasMask, then extra (result-shaped, in the
 * result's stored layout) when the epilogue reads one.
 *
 * <p>The mask is stored as is, of any rank up to the op's, broadcast from the right to [.., M, N]
 * (a [M,N] causal buffer, a [B,1,1,N] key-padding mask); its last axis is N. It is added to the
 * scaled scores; with maskSelects an entry of −∞ instead replaces the score (masked_fill and
 * Where(mask, −∞, scores) mean exactly that, even for a score that is NaN or +∞). causal leaves out
 * key j of query row i when j > i (torch.tril(ones(M, N)), top-left aligned), so no N×N mask
 * exists: such a key takes no part at all, neither in the softmax nor as 0·V (which the unfused
 * chain computes, and which differs only where V holds NaN or ±∞ past the diagonal; a streaming
 * kernel never reads those rows). A row whose every key is masked by the mask gives NaN (0/0),
 * as PyTorch's softmax does.
 *
 * <p>The semantics are row-wise in M and associative over N, so a backend may stream K/V in
 * tiles with an online softmax and never hold the M×N score matrix.
 */
public record FusedAttention(float scale, boolean hasMask, AttentionLayout qLayout, AttentionLayout kLayout,
                             AttentionLayout vLayout, AttentionLayout outLayout, boolean causal, boolean maskSelects,
                             Epilogue epilogue) implements Op, EpilogueAnchor {
    public FusedAttention {
        java.util.Objects.requireNonNull(epilogue, "epilogue");
        java.util.Objects.requireNonNull(qLayout, "qLayout");
        java.util.Objects.requireNonNull(kLayout, "kLayout");
        java.util.Objects.requireNonNull(vLayout, "vLayout");
        java.util.Objects.requireNonNull(outLayout, "outLayout");
        if (maskSelects && !hasMask) throw new IllegalArgumentException("maskSelects without a mask");
    }

    /** Rank-3 attention with an additive mask (or none), each operand row- or channel-major. */
    public FusedAttention(float scale, boolean hasMask, boolean qChannelMajor, boolean kChannelMajor,
                          boolean vChannelMajor, boolean outChannelMajor, Epilogue epilogue) {
        this(scale, hasMask, layout(qChannelMajor), layout(kChannelMajor), layout(vChannelMajor), layout(outChannelMajor),
                false, false, epilogue);
    }

    private static AttentionLayout layout(boolean channelMajor) {
        return channelMajor ? AttentionLayout.CHANNEL_MAJOR : AttentionLayout.ROW_MAJOR;
    }

    @Override public FusedAttention withEpilogue(Epilogue e) {
        return new FusedAttention(scale, hasMask, qLayout, kLayout, vLayout, outLayout, causal, maskSelects, e);
    }

    public boolean qChannelMajor() { return qLayout == AttentionLayout.CHANNEL_MAJOR; }
    public boolean kChannelMajor() { return kLayout == AttentionLayout.CHANNEL_MAJOR; }
    public boolean vChannelMajor() { return vLayout == AttentionLayout.CHANNEL_MAJOR; }
    public boolean outChannelMajor() { return outLayout == AttentionLayout.CHANNEL_MAJOR; }

    /** No bias operand: a constant added after attention stays a separate add. */
    @Override public int biasOperand() { return -1; }

    @Override public TensorType inferType(List<TensorType> in) {
        int n = 3 + (hasMask ? 1 : 0) + epilogue.extraOperands();
        Checks.arity(this, in, n, n);
        int rank = in.getFirst().rank();
        Checks.require(rank == 3 || rank == 4, this, "q " + in.getFirst() + " must have rank 3 ([G,M,D]) or 4 ([B,H,M,D])");
        for (int i = 1; i < 3; i++)
            Checks.require(in.get(i).rank() == rank, this, "q/k/v ranks differ: " + in.get(0) + ", " + in.get(1) + ", " + in.get(2));
        int[] q = qLayout.logical(in.get(0).shape().dims()), k = kLayout.logical(in.get(1).shape().dims());
        int[] v = vLayout.logical(in.get(2).shape().dims());
        for (int a = 0; a < rank - 2; a++)
            Checks.require(k[a] == q[a] && v[a] == q[a], this, "batch sizes differ: q " + in.get(0) + " (" + qLayout.name().toLowerCase()
                    + "), k " + in.get(1) + " (" + kLayout.name().toLowerCase() + "), v " + in.get(2) + " (" + vLayout.name().toLowerCase() + ")");
        int m = q[rank - 2], d = q[rank - 1], nk = k[rank - 2], dk = k[rank - 1], nv = v[rank - 2], e = v[rank - 1];
        Checks.require(dk == d, this, "q " + in.get(0) + " and k " + in.get(1) + " differ in head size (" + d + " vs " + dk + ")");
        Checks.require(nv == nk, this, "k " + in.get(1) + " and v " + in.get(2) + " differ in sequence length (" + nk + " vs " + nv + ")");
        int[] out = q.clone();
        out[rank - 1] = e;
        if (hasMask) {
            int[] md = in.get(3).shape().dims();
            int[] want = out.clone();
            want[rank - 1] = nk;
            boolean ok = md.length >= 1 && md.length <= rank && md[md.length - 1] == nk;
            for (int a = 0; ok && a < md.length - 1; a++) {
                int w = want[rank - md.length + a];
                ok = md[a] == w || md[a] == 1;
            }
            Checks.require(ok, this, "mask " + in.get(3) + " does not broadcast to " + TensorType.f32(want)
                    + " along its leading axes with its last axis " + nk);
        }
        TensorType result = TensorType.f32(outLayout.stored(out));
        epilogue.checkExtra(this, in, result);
        return result;
    }

    /** A tensor read through its layout: logical [G, rows, cols] with G = B·H, strides in the stored array. */
    private record Operand(float[] data, int heads, int sOuter, int sInner, int sRow, int sCol) {
        static Operand of(HostTensor t, AttentionLayout l) {
            int[] dims = t.shape().dims(), ld = l.logical(dims), s = l.logicalStrides(dims);
            int r = dims.length;
            return r == 3 ? new Operand(t.data(), 1, s[0], 0, s[1], s[2]) : new Operand(t.data(), ld[1], s[0], s[1], s[2], s[3]);
        }

        int at(int g, int row, int col) { return g / heads * sOuter + g % heads * sInner + row * sRow + col * sCol; }
        double get(int g, int row, int col) { return data[at(g, row, col)]; }
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape outShape = inferType(in.stream().map(HostTensor::type).toList()).shape();
        int rank = outShape.rank();
        Operand q = Operand.of(in.get(0), qLayout), k = Operand.of(in.get(1), kLayout), v = Operand.of(in.get(2), vLayout);
        int[] ql = qLayout.logical(in.get(0).shape().dims()), kl = kLayout.logical(in.get(1).shape().dims());
        int[] vl = vLayout.logical(in.get(2).shape().dims());
        int groups = ql[0] * (rank == 4 ? ql[1] : 1), heads = rank == 4 ? ql[1] : 1;
        int m = ql[rank - 2], d = ql[rank - 1], n = kl[rank - 2], e = vl[rank - 1];
        float[] y = new float[outShape.elementCount()];
        HostTensor ex = epilogue.hasExtra() ? in.getLast() : null;
        Operand o = Operand.of(HostTensor.of(outShape, y), outLayout), extra = ex == null ? null : Operand.of(ex, outLayout);
        float[] mask = hasMask ? in.get(3).data() : null;
        int[] ms = hasMask ? maskStrides(in.get(3).shape().dims(), rank) : null;
        double[] s = new double[n];
        for (int g = 0; g < groups; g++)
            for (int i = 0; i < m; i++) {
                // rounded to f32 where the unfused chain holds f32 tensors (the scores, the probabilities), so the
                // fused op means exactly its chain: a probability below f32's range is 0, and 0·∞ is NaN, as in PyTorch
                double max = Double.NEGATIVE_INFINITY;
                int keys = causal ? Math.min(n, i + 1) : n;     // a causally masked key takes no part, not even 0·V
                for (int j = 0; j < keys; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += q.get(g, i, c) * k.get(g, j, c);
                    float score = (float) dot * scale;
                    if (mask != null) {
                        float mv = mask[g / heads * ms[0] + g % heads * ms[1] + i * ms[2] + j];
                        score = maskSelects && mv == Float.NEGATIVE_INFINITY ? mv : score + mv;
                    }
                    s[j] = score;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < keys; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                for (int j = 0; j < keys; j++) s[j] = (float) (s[j] / sum);
                for (int c = 0; c < e; c++) {
                    double acc = 0;
                    for (int j = 0; j < keys; j++) acc += s[j] * v.get(g, j, c);
                    int at = o.at(g, i, c);
                    y[at] = (float) epilogue.apply(acc, extra == null ? 0 : extra.data()[extra.at(g, i, c)]);
                }
            }
        return HostTensor.of(outShape, y);
    }

    /**
     * Strides of a mask of these dims broadcast to the op's [.., M, N]: {outer batch, inner batch (heads), row};
     * the key axis has unit stride. Rank 3 has one batch axis (the outer); broadcast axes get 0.
     */
    public static int[] maskStrides(int[] dims, int rank) {
        int[] full = new int[rank];          // row-major strides, right-aligned, 0 where broadcast
        int acc = 1;
        for (int a = dims.length - 1; a >= 0; a--) {
            full[rank - dims.length + a] = dims[a] == 1 ? 0 : acc;
            acc *= dims[a];
        }
        return rank == 3 ? new int[]{full[0], 0, full[1]} : new int[]{full[0], full[1], full[2]};
    }
}
