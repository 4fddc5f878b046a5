package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

import java.util.Arrays;

/** torch.nn.LayerNorm(normalized_shape): over the trailing axes of that shape, with weight and bias of it (eps 1e-5). */
public final class LayerNorm extends Module {
    private final int[] shape;
    private final float eps;

    public LayerNorm(int... normalizedShape) { this(1e-5f, normalizedShape); }

    public LayerNorm(float eps, int... normalizedShape) {
        if (normalizedShape.length == 0) throw new IllegalArgumentException("LayerNorm needs a normalized shape");
        this.shape = normalizedShape.clone();
        this.eps = eps;
        Shape s = Shape.of(shape);
        parameter("weight", s, Init.around(s, 1f, 0.2f));   // near PyTorch's ones and zeros, not exactly them, so a lost affine shows
        parameter("bias", s, Init.around(s, 0f, 0.1f));
    }

    @Override public Tensor forward(Tensor x) {
        int[] d = x.shape();
        int axis = d.length - shape.length;
        if (axis < 0 || !Arrays.equals(Arrays.copyOfRange(d, axis, d.length), shape))
            throw new ShapeException(path() + ": LayerNorm" + Arrays.toString(shape) + " does not fit the trailing axes of " + x.type());
        return call(new dev.kiln.ir.op.LayerNorm(axis, eps), x, param("weight"), param("bias"));
    }
}
