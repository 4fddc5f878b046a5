package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Slice;

import java.util.Arrays;

/**
 * torch.nn.MultiheadAttention(embed_dim, num_heads) with equal query/key/value widths, in eval
 * mode: PyTorch's parameters in_proj_weight[3E, E], in_proj_bias[3E] and out_proj (a Linear E→E),
 * so a PyTorch state_dict loads as is. {@link #forward} is self-attention; {@link #apply(Tensor,
 * Tensor, Tensor, Tensor)} takes a separate key/value (cross-attention, another length) and an
 * optional additive float mask [L, S] or [B·H, L, S]. The output is PyTorch's attn_output
 * (need_weights=False).
 *
 * <p>It traces to what {@code fuse-attention} fuses: each head as one batch of the [B·H, L, d]
 * form, the scores scaled by 1/√d after Q·Kᵀ (PyTorch scales Q before; the same in exact
 * arithmetic), Kᵀ as a transpose the fusion absorbs, and the mask widened to [B·H, L, S] (a
 * constant mask is widened once, by constant folding). When the query, key and value are the
 * same tensor the three projections are one linear layer, as PyTorch's packed weight is.
 */
public final class MultiheadAttention extends Module {
    private final int embed, heads;
    private final Linear outProj;
    private boolean batchFirst;

    public MultiheadAttention(int embedDim, int numHeads) {
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0)
            throw new IllegalArgumentException("MultiheadAttention: embed_dim " + embedDim + " must be a positive multiple of num_heads " + numHeads);
        this.embed = embedDim;
        this.heads = numHeads;
        Shape w = Shape.of(3 * embedDim, embedDim), b = Shape.of(3 * embedDim);
        parameter("in_proj_weight", w, Init.fanIn(w, embedDim));
        parameter("in_proj_bias", b, Init.around(b, 0f, 0.1f));   // PyTorch starts at zeros; random so a lost bias shows
        outProj = register("out_proj", new Linear(embedDim, embedDim));
    }

    /** Inputs and output as [B, L, E] (true) or PyTorch's default [L, B, E] (false). */
    public MultiheadAttention batchFirst(boolean b) { batchFirst = b; return this; }

    public boolean isBatchFirst() { return batchFirst; }

    /** Self-attention without a mask. */
    @Override public Tensor forward(Tensor x) { return attend(x, x, x, null); }

    /** mha(query, key, value, attn_mask) under this module's path; attnMask may be null. */
    public Tensor apply(Tensor query, Tensor key, Tensor value, Tensor attnMask) {
        return scoped(query, () -> attend(query, key, value, attnMask));
    }

    private Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask) {
        int b = check("query", q, -1), l = q.size(batchFirst ? 1 : 0);
        check("key", k, b);
        check("value", v, b);
        int s = k.size(batchFirst ? 1 : 0);
        if (v.size(batchFirst ? 1 : 0) != s)
            throw new ShapeException(path() + ": MultiheadAttention key " + k.type() + " and value " + v.type() + " differ in length");
        Tensor qp, kp, vp;
        if (q.value().equals(k.value()) && k.value().equals(v.value())) {
            Tensor all = project(q, 0, 3);          // the packed projection, then split as PyTorch's chunk(3)
            qp = lastAxis(all, 0);
            kp = lastAxis(all, 1);
            vp = lastAxis(all, 2);
        } else if (k.value().equals(v.value())) {
            qp = project(q, 0, 1);
            Tensor kv = project(k, 1, 3);
            kp = lastAxis(kv, 0);
            vp = lastAxis(kv, 1);
        } else {
            qp = project(q, 0, 1);
            kp = project(k, 1, 2);
            vp = project(v, 2, 3);
        }
        int d = embed / heads;
        Tensor scores = headsOf(qp, b, l).matmul(headsOf(kp, b, s).transpose(1, 2)).mul(1 / Math.sqrt(d));
        if (mask != null) scores = scores.add(widened(mask, b, l, s));
        Tensor o = scores.softmax(-1).matmul(headsOf(vp, b, s));   // [B·H, L, d]
        Tensor merged = batchFirst
                ? o.view(b, heads, l, d).permute(0, 2, 1, 3).view(b, l, embed)
                : o.transpose(0, 1).view(l, b, embed);
        return outProj.apply(merged);
    }

    /** The input's batch size, after checking its rank and width (and its batch against want when want ≥ 0). */
    private int check(String what, Tensor t, int want) {
        if (t.dim() != 3 || t.size(2) != embed)
            throw new ShapeException(path() + ": MultiheadAttention(" + embed + ", " + heads + ") takes " + what + " as "
                    + (batchFirst ? "[B, L, " : "[L, B, ") + embed + "], got " + t.type());
        int b = t.size(batchFirst ? 0 : 1);
        if (want >= 0 && b != want)
            throw new ShapeException(path() + ": MultiheadAttention " + what + " " + t.type() + " has batch " + b + ", the query " + want);
        return b;
    }

    /** x · W[rows from·E .. to·E)ᵀ + bias of the same rows. */
    private Tensor project(Tensor x, int from, int to) {
        Tensor w = param("in_proj_weight"), bias = param("in_proj_bias");
        if (from != 0 || to != 3) {
            w = call(new Slice(new int[]{0}, new int[]{from * embed}, new int[]{to * embed}, new int[]{1}), w);
            bias = call(new Slice(new int[]{0}, new int[]{from * embed}, new int[]{to * embed}, new int[]{1}), bias);
        }
        return call(new dev.kiln.ir.op.Linear(), x, w, bias);
    }

    /** Part i (E wide) of the last axis. */
    private Tensor lastAxis(Tensor t, int i) {
        return call(new Slice(new int[]{t.dim() - 1}, new int[]{i * embed}, new int[]{(i + 1) * embed}, new int[]{1}), t);
    }

    /** A projected [B, n, E] (or [n, B, E]) tensor as [B·H, n, d], head h of batch b at b·H + h, as PyTorch orders them. */
    private Tensor headsOf(Tensor t, int b, int n) {
        int d = embed / heads;
        return batchFirst
                ? t.view(b, n, heads, d).permute(0, 2, 1, 3).view(b * heads, n, d)
                : t.view(n, b * heads, d).transpose(0, 1);
    }

    /** The mask as [B·H, L, S]: a [L, S] mask is the same for every head (added to zeros of [B·H, 1, 1]). */
    private Tensor widened(Tensor mask, int b, int l, int s) {
        int[] full = {b * heads, l, s};
        if (Arrays.equals(mask.shape(), full)) return mask;
        if (!Arrays.equals(mask.shape(), new int[]{l, s}))
            throw new ShapeException(path() + ": MultiheadAttention attn_mask " + mask.type() + " must be [" + l + ", " + s + "] or "
                    + Arrays.toString(full) + " for a query of length " + l + " and a key of length " + s);
        return mask.add(constant("mask_heads", HostTensor.zeros(b * heads, 1, 1)));
    }
}
