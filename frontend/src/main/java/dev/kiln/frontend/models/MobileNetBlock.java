package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.Conv2d;

/** MobileNet v1 block: depthwise 3×3 → BN → ReLU → pointwise 1×1 → BN → ReLU (convs without bias). */
public final class MobileNetBlock extends Module {
    final Conv2d depthwise, pointwise;
    final BatchNorm2d bn1, bn2;

    public MobileNetBlock(int in, int out, int stride) {
        depthwise = register("depthwise", new Conv2d(in, in, 3).stride(stride).padding(1).groups(in).bias(false));
        bn1 = register("bn1", new BatchNorm2d(in));
        pointwise = register("pointwise", new Conv2d(in, out, 1).bias(false));
        bn2 = register("bn2", new BatchNorm2d(out));
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = bn1.apply(depthwise.apply(x)).relu();
        return bn2.apply(pointwise.apply(y)).relu();
    }
}
