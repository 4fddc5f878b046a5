package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** Gated attention: x · AttentionModule(x), with the attention's output channels equal to C. */
public final class AdaptiveAttentionModule extends Module {
    final AttentionModule attention;

    public AdaptiveAttentionModule(int channels) {
        attention = register("attention", new AttentionModule(channels, channels));
    }

    @Override public Tensor forward(Tensor x) { return x.mul(attention.apply(x)); }
}
