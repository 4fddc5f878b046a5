package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;

/**
 * Self-attention over a sequence [B,T,D]: softmax(Q·Kᵀ/√d)·V with linear projections.
 * DOT scoring compares Q and K directly; GENERAL (Luong) scoring compares Q with W_a·K.
 */
public final class SequenceAttention extends Module {
    public enum Scoring { DOT, GENERAL }

    final Linear query, key, value, general;
    private final int dim;

    public SequenceAttention(int dim, Scoring scoring) {
        this.dim = dim;
        query = register("query", new Linear(dim, dim));
        key = register("key", new Linear(dim, dim));
        value = register("value", new Linear(dim, dim));
        general = scoring == Scoring.GENERAL ? register("general", new Linear(dim, dim).bias(false)) : null;
    }

    @Override public Tensor forward(Tensor x) {
        Tensor q = query.apply(x), k = key.apply(x), v = value.apply(x);
        if (general != null) k = general.apply(k);
        Tensor scores = q.matmul(k.transpose(1, 2)).div(Math.sqrt(dim));
        return scores.softmax(-1).matmul(v);
    }
}
