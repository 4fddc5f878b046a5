package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;

/**
 * torch.nn.ConvTranspose2d. Parameters {@code weight[in, out/groups, kh, kw]} (input channels
 * first, as PyTorch stores it, so its state dict loads by name) and {@code bias[out]}. Setters
 * return this: {@code new ConvTranspose2d(64, 32, 4).stride(2).padding(1)} doubles the size.
 */
public final class ConvTranspose2d extends Module {
    private final int in, out, kh, kw;
    private int[] stride = {1, 1}, padding = {0, 0}, outputPadding = {0, 0}, dilation = {1, 1};
    private int groups = 1;
    private boolean bias = true;

    public ConvTranspose2d(int in, int out, int kernel) { this(in, out, kernel, kernel); }

    public ConvTranspose2d(int in, int out, int kh, int kw) {
        if (in <= 0 || out <= 0 || kh <= 0 || kw <= 0) throw new IllegalArgumentException("ConvTranspose2d sizes must be positive");
        this.in = in;
        this.out = out;
        this.kh = kh;
        this.kw = kw;
        declare();
    }

    public ConvTranspose2d stride(int s) { return stride(s, s); }
    public ConvTranspose2d stride(int sh, int sw) { stride = new int[]{sh, sw}; return this; }
    public ConvTranspose2d padding(int p) { return padding(p, p); }
    public ConvTranspose2d padding(int ph, int pw) { padding = new int[]{ph, pw}; return this; }
    public ConvTranspose2d outputPadding(int p) { return outputPadding(p, p); }
    public ConvTranspose2d outputPadding(int ph, int pw) { outputPadding = new int[]{ph, pw}; return this; }
    public ConvTranspose2d dilation(int d) { dilation = new int[]{d, d}; return this; }

    public ConvTranspose2d groups(int g) {
        if (g <= 0 || in % g != 0 || out % g != 0)
            throw new IllegalArgumentException("groups=" + g + " must divide in_channels " + in + " and out_channels " + out);
        groups = g;
        declare();
        return this;
    }

    public ConvTranspose2d bias(boolean b) { bias = b; declare(); return this; }

    /** PyTorch's fan-in of this weight: its axis 1 times the window, out/groups·kh·kw. */
    private void declare() {
        Shape w = Shape.of(in, out / groups, kh, kw);
        int fanIn = out / groups * kh * kw;
        parameter("weight", w, Init.fanIn(w, fanIn));
        if (bias) parameter("bias", Shape.of(out), Init.fanIn(Shape.of(out), fanIn));
        else removeParameter("bias");
    }

    public int inChannels() { return in; }
    public int outChannels() { return out; }

    @Override public Tensor forward(Tensor x) {
        // checked here rather than in the setters, which may come in any order
        var op = new dev.kiln.ir.op.ConvTranspose2d(stride, new int[]{padding[0], padding[1], padding[0], padding[1]}, outputPadding, dilation, groups);
        return bias ? call(op, x, param("weight"), param("bias")) : call(op, x, param("weight"));
    }
}
