package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

/**
 * torch.nn.Conv1d over [N, C, L]. Parameters {@code weight[out, in/groups, k]} and {@code bias[out]}, as
 * PyTorch names and shapes them. Traced as a 2-D convolution over [N, C, 1, L] with a [1, k] kernel,
 * which is what every backend's conv kernels already do fast; the reshapes around it only relabel.
 */
public final class Conv1d extends Module {
    private final int in, out, k;
    private int stride = 1, padding = 0, dilation = 1, groups = 1;
    private boolean bias = true;

    public Conv1d(int in, int out, int kernel) {
        if (in <= 0 || out <= 0 || kernel <= 0) throw new IllegalArgumentException("Conv1d sizes must be positive");
        this.in = in;
        this.out = out;
        this.k = kernel;
        declare();
    }

    public Conv1d stride(int s) { stride = s; return this; }
    public Conv1d padding(int p) { padding = p; return this; }
    public Conv1d dilation(int d) { dilation = d; return this; }

    public Conv1d groups(int g) {
        if (g <= 0 || in % g != 0 || out % g != 0)
            throw new IllegalArgumentException("groups=" + g + " must divide in_channels " + in + " and out_channels " + out);
        groups = g;
        declare();
        return this;
    }

    public Conv1d bias(boolean b) { bias = b; declare(); return this; }

    private void declare() {
        int fanIn = in / groups * k;
        parameter("weight", Shape.of(out, in / groups, k), Init.fanIn(Shape.of(out, in / groups, k), fanIn));
        if (bias) parameter("bias", Shape.of(out), Init.fanIn(Shape.of(out), fanIn));
        else removeParameter("bias");
    }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(1) != in)
            throw new ShapeException(this + " expects [N, " + in + ", L], got " + x.type());
        var op = new dev.kiln.ir.op.Conv2d(new int[]{1, stride}, new int[]{0, padding, 0, padding}, new int[]{1, dilation}, groups);
        Tensor x2 = x.view(x.size(0), in, 1, x.size(2)), w = param("weight").view(out, in / groups, 1, k);
        Tensor y = bias ? call(op, x2, w, param("bias")) : call(op, x2, w);
        return y.view(y.size(0), out, y.size(3));
    }
}
