package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;

/**
 * torch.nn.Conv2d. Parameters {@code weight[out, in/groups, k, k]} and {@code bias[out]}.
 * Setters return this, so a layer reads {@code new Conv2d(32, 32, 3).padding(1).groups(32)}.
 */
public final class Conv2d extends Module {
    private final int in, out, kh, kw;
    private int[] stride = {1, 1}, padding = {0, 0}, dilation = {1, 1};
    private int groups = 1;
    private boolean bias = true;

    public Conv2d(int in, int out, int kernel) { this(in, out, kernel, kernel); }

    public Conv2d(int in, int out, int kh, int kw) {
        if (in <= 0 || out <= 0 || kh <= 0 || kw <= 0) throw new IllegalArgumentException("Conv2d sizes must be positive");
        this.in = in;
        this.out = out;
        this.kh = kh;
        this.kw = kw;
        declare();
    }

    public Conv2d stride(int s) { stride = new int[]{s, s}; return this; }
    public Conv2d padding(int p) { padding = new int[]{p, p}; return this; }
    public Conv2d padding(int ph, int pw) { padding = new int[]{ph, pw}; return this; }
    public Conv2d dilation(int d) { dilation = new int[]{d, d}; return this; }

    public Conv2d groups(int g) {
        if (g <= 0 || in % g != 0 || out % g != 0)
            throw new IllegalArgumentException("groups=" + g + " must divide in_channels " + in + " and out_channels " + out);
        groups = g;
        declare();
        return this;
    }

    public Conv2d bias(boolean b) { bias = b; declare(); return this; }

    private void declare() {
        int fanIn = in / groups * kh * kw;
        parameter("weight", Shape.of(out, in / groups, kh, kw), Init.fanIn(Shape.of(out, in / groups, kh, kw), fanIn));
        if (bias) parameter("bias", Shape.of(out), Init.fanIn(Shape.of(out), fanIn));
        else removeParameter("bias");
    }

    public int inChannels() { return in; }
    public int outChannels() { return out; }

    @Override public Tensor forward(Tensor x) {
        var op = new dev.kiln.ir.op.Conv2d(stride, new int[]{padding[0], padding[1], padding[0], padding[1]}, dilation, groups);
        return bias ? call(op, x, param("weight"), param("bias")) : call(op, x, param("weight"));
    }
}
