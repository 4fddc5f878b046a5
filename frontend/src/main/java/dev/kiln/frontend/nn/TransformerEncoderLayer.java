package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/**
 * torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward) in eval mode (dropout is the
 * identity): self-attention and a two-layer feed-forward block, each with a residual connection
 * and a LayerNorm (eps 1e-5), after the residual add (post-norm, PyTorch's default) or before the
 * block ({@link #normFirst}). PyTorch's state_dict names: self_attn.{in_proj_weight, in_proj_bias,
 * out_proj.weight, out_proj.bias}, linear1.*, linear2.*, norm1.*, norm2.*. The activation is ReLU
 * (default) or GELU in its exact erf form, as PyTorch's "gelu".
 */
public final class TransformerEncoderLayer extends Module {
    public enum Activation { RELU, GELU }

    private final MultiheadAttention selfAttn;
    private final Linear linear1, linear2;
    private final LayerNorm norm1, norm2;
    private boolean normFirst;
    private Activation activation = Activation.RELU;

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward) { this(dModel, nhead, dimFeedforward, 1e-5f); }

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward, float layerNormEps) {
        if (dimFeedforward <= 0) throw new IllegalArgumentException("TransformerEncoderLayer: dim_feedforward must be positive, got " + dimFeedforward);
        selfAttn = register("self_attn", new MultiheadAttention(dModel, nhead));
        linear1 = register("linear1", new Linear(dModel, dimFeedforward));
        linear2 = register("linear2", new Linear(dimFeedforward, dModel));
        norm1 = register("norm1", new LayerNorm(layerNormEps, dModel));
        norm2 = register("norm2", new LayerNorm(layerNormEps, dModel));
    }

    /** [B, L, d_model] (true) or PyTorch's default [L, B, d_model] (false). */
    public TransformerEncoderLayer batchFirst(boolean b) { selfAttn.batchFirst(b); return this; }

    /** LayerNorm before each block (pre-norm) instead of after each residual add. */
    public TransformerEncoderLayer normFirst(boolean b) { normFirst = b; return this; }

    public TransformerEncoderLayer activation(Activation a) { activation = java.util.Objects.requireNonNull(a, "activation"); return this; }

    @Override public Tensor forward(Tensor x) { return forward(x, null); }

    /** The layer with an additive attention mask (src_mask: [L, L] or [B·nhead, L, L]); mask may be null. */
    public Tensor apply(Tensor x, Tensor mask) { return scoped(x, () -> forward(x, mask)); }

    private Tensor forward(Tensor x, Tensor mask) {
        if (normFirst) {
            x = x.add(attention(norm1.apply(x), mask));
            return x.add(feedForward(norm2.apply(x)));
        }
        x = norm1.apply(x.add(attention(x, mask)));
        return norm2.apply(x.add(feedForward(x)));
    }

    private Tensor attention(Tensor x, Tensor mask) { return selfAttn.apply(x, x, x, mask); }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.apply(x);
        h = switch (activation) {
            case RELU -> h.relu();
            case GELU -> h.gelu();
        };
        return linear2.apply(h);
    }
}
