package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Activations;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Sequential;

/** GAN generator body: 3×3 conv + ReLU layers, a final 3×3 conv to image channels, then Tanh. */
public final class Generator extends Module {
    final Sequential net;

    public Generator(int imageChannels, int width, int hiddenLayers) {
        net = register("net", new Sequential());
        int c = imageChannels;
        for (int i = 0; i < hiddenLayers; i++) {
            net.add(new Conv2d(c, width, 3).padding(1)).add(new Activations.ReLU());
            c = width;
        }
        net.add(new Conv2d(c, imageChannels, 3).padding(1)).add(new Activations.Tanh());
    }

    @Override public Tensor forward(Tensor x) { return net.apply(x); }
}
