package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

/**
 * torch.nn.GroupNorm(num_groups, num_channels) on [N, C, ...]: the channels split into groups,
 * each group normalised over its channels and spatial positions (a LayerNorm of x viewed as
 * [N, G, C/G·...]), then a per-channel weight and bias (eps 1e-5).
 */
public final class GroupNorm extends Module {
    private final int groups, channels;
    private final float eps;

    public GroupNorm(int groups, int channels) { this(groups, channels, 1e-5f); }

    public GroupNorm(int groups, int channels, float eps) {
        if (groups <= 0 || channels % groups != 0)
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels do not split into " + groups + " groups");
        this.groups = groups;
        this.channels = channels;
        this.eps = eps;
        Shape s = Shape.of(channels);
        parameter("weight", s, Init.around(s, 1f, 0.2f));   // near PyTorch's ones and zeros, not exactly them, so a lost affine shows
        parameter("bias", s, Init.around(s, 0f, 0.1f));
    }

    @Override public Tensor forward(Tensor x) {
        int[] d = x.shape();
        if (d.length < 2 || d[1] != channels)
            throw new ShapeException(path() + ": GroupNorm of " + channels + " channels does not fit " + x.type());
        Tensor n = call(new dev.kiln.ir.op.LayerNorm(2, eps), x.view(d[0], groups, -1)).view(d);
        return InstanceNorm2d.perChannel(n, param("weight"), param("bias"), channels, d.length);
    }
}
