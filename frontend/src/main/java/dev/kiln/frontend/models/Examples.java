package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.ir.Shape;

import java.util.List;
import java.util.function.Supplier;

/** The built-in target models with the input shape each is demonstrated on. */
public final class Examples {
    private Examples() {}

    public record Example(String name, String description, Supplier<Module> model, Shape inputShape) {}

    public static List<Example> all() {
        return List.of(
                new Example("dwsep", "depthwise-separable conv 32→64", () -> new DepthwiseSeparableConv2d(32, 64), Shape.of(1, 32, 56, 56)),
                new Example("mobilenet", "MobileNet stack of 3 blocks with BN+ReLU, one stride 2", () -> new MobileNetStack(16), Shape.of(1, 16, 32, 32)),
                new Example("attention", "SAGAN 2-D self-attention", () -> new AttentionModule(64), Shape.of(1, 64, 16, 16)),
                new Example("adaptive-attention", "gated SAGAN attention x·Attn(x)", () -> new AdaptiveAttentionModule(64), Shape.of(1, 64, 16, 16)),
                new Example("generator", "GAN generator: conv+ReLU stack ending in Tanh", () -> new Generator(3, 32, 3), Shape.of(1, 3, 32, 32)),
                new Example("cnn", "small CNN: conv-pool ×2, linear ×2", SmallCnn::new, Shape.of(1, 3, 24, 24)),
                new Example("lstm", "2-layer LSTM + linear on last step", () -> new LstmClassifier(16, 32, 10), Shape.of(1, 20, 16)),
                new Example("seq-attention", "sequence dot-product attention", () -> new SequenceAttention(64, SequenceAttention.Scoring.DOT), Shape.of(1, 128, 64)),
                new Example("seq-attention-general", "sequence attention, general scoring", () -> new SequenceAttention(64, SequenceAttention.Scoring.GENERAL), Shape.of(1, 128, 64)));
    }

    public static Example byName(String name) {
        return all().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no built-in model '" + name + "'; known: " + all().stream().map(Example::name).toList()));
    }
}
