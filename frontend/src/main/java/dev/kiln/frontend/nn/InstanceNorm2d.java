package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

/**
 * torch.nn.InstanceNorm2d(num_features, affine): each (n, c) plane normalised over H and W (a
 * LayerNorm over axes [2, 4)), then, with affine, a per-channel weight and bias (eps 1e-5; no
 * running statistics, as PyTorch's default).
 */
public final class InstanceNorm2d extends Module {
    private final int channels;
    private final boolean affine;
    private final float eps;

    public InstanceNorm2d(int channels) { this(channels, false); }

    public InstanceNorm2d(int channels, boolean affine) { this(channels, affine, 1e-5f); }

    public InstanceNorm2d(int channels, boolean affine, float eps) {
        this.channels = channels;
        this.affine = affine;
        this.eps = eps;
        if (affine) {
            Shape s = Shape.of(channels);
            parameter("weight", s, Init.around(s, 1f, 0.2f));   // near PyTorch's ones and zeros, not exactly them, so a lost affine shows
            parameter("bias", s, Init.around(s, 0f, 0.1f));
        }
    }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() != 4 || x.size(1) != channels)
            throw new ShapeException(path() + ": InstanceNorm2d of " + channels + " channels expects [N, " + channels + ", H, W], got " + x.type());
        Tensor n = call(new dev.kiln.ir.op.LayerNorm(2, eps), x);
        return affine ? perChannel(n, param("weight"), param("bias"), channels, 4) : n;
    }

    /** x · weight + bias with both [C] viewed as [C, 1, ...] to broadcast over the axes after the channels. */
    static Tensor perChannel(Tensor x, Tensor weight, Tensor bias, int channels, int rank) {
        int[] d = new int[rank - 1];
        java.util.Arrays.fill(d, 1);
        d[0] = channels;
        return x.mul(weight.view(d)).add(bias.view(d));
    }
}
