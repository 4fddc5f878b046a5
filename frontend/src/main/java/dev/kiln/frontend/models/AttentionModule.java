package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Conv2d;

/**
 * SAGAN-style 2-D self-attention over [B,C,H,W]. 1×1 convs give Q and K (C/8 channels) and
 * V (outChannels); attention = softmax over the last axis of Qᵀ·K ([B,HW,HW]);
 * output = V·attentionᵀ reshaped to [B,outChannels,H,W].
 */
public final class AttentionModule extends Module {
    final Conv2d query, key, value;

    public AttentionModule(int channels) { this(channels, channels); }

    public AttentionModule(int channels, int outChannels) {
        int qk = Math.max(1, channels / 8);
        query = register("query", new Conv2d(channels, qk, 1));
        key = register("key", new Conv2d(channels, qk, 1));
        value = register("value", new Conv2d(channels, outChannels, 1));
    }

    @Override public Tensor forward(Tensor x) {
        int b = x.size(0), h = x.size(2), w = x.size(3);
        Tensor q = query.apply(x).view(b, -1, h * w).permute(0, 2, 1);   // [B, N, C/8]
        Tensor k = key.apply(x).view(b, -1, h * w);                      // [B, C/8, N]
        Tensor attention = q.bmm(k).softmax(-1);                          // [B, N, N]
        Tensor v = value.apply(x).view(b, -1, h * w);                    // [B, C', N]
        Tensor out = v.bmm(attention.permute(0, 2, 1));                   // [B, C', N]
        return out.view(b, -1, h, w);
    }
}
