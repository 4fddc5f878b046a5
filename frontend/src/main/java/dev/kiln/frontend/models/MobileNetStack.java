package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

/** Three MobileNet blocks, the second with stride 2: c → 2c → 4c (stride 2) → 4c. */
public final class MobileNetStack extends Module {
    final MobileNetBlock block1, block2, block3;

    public MobileNetStack(int channels) {
        block1 = register("block1", new MobileNetBlock(channels, 2 * channels, 1));
        block2 = register("block2", new MobileNetBlock(2 * channels, 4 * channels, 2));
        block3 = register("block3", new MobileNetBlock(4 * channels, 4 * channels, 1));
    }

    @Override public Tensor forward(Tensor x) { return block3.apply(block2.apply(block1.apply(x))); }
}
