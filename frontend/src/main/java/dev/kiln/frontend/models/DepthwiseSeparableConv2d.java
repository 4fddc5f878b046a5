package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Conv2d;

/** A 3×3 depthwise conv (groups = in_channels) followed by a 1×1 pointwise conv. */
public final class DepthwiseSeparableConv2d extends Module {
    final Conv2d depthwise, pointwise;

    public DepthwiseSeparableConv2d(int in, int out) { this(in, out, 1); }

    public DepthwiseSeparableConv2d(int in, int out, int stride) {
        depthwise = register("depthwise", new Conv2d(in, in, 3).stride(stride).padding(1).groups(in));
        pointwise = register("pointwise", new Conv2d(in, out, 1));
    }

    @Override public Tensor forward(Tensor x) { return pointwise.apply(depthwise.apply(x)); }
}
