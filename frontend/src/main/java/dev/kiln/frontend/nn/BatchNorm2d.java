package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;

/** torch.nn.BatchNorm2d in eval mode: weight, bias, running_mean, running_var (eps 1e-5). */
public final class BatchNorm2d extends Module {
    private final float eps;

    public BatchNorm2d(int channels) { this(channels, 1e-5f); }

    public BatchNorm2d(int channels, float eps) {
        this.eps = eps;
        Shape s = Shape.of(channels);
        parameter("weight", s, Init.around(s, 1f, 0.2f));
        parameter("bias", s, Init.around(s, 0f, 0.1f));
        parameter("running_mean", s, Init.around(s, 0f, 0.1f));
        parameter("running_var", s, Init.around(s, 1f, 0.2f));
    }

    @Override public Tensor forward(Tensor x) {
        return call(new dev.kiln.ir.op.BatchNorm2d(eps), x, param("weight"), param("bias"), param("running_mean"), param("running_var"));
    }
}
