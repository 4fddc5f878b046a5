package dev.kiln.frontend;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;

import java.util.Arrays;
import java.util.List;

/**
 * A symbolic tensor seen while tracing: an IR value and its static type. Its methods read
 * like PyTorch's tensor methods and record one IR node each.
 */
public final class Tensor {
    private final Tracer tracer;
    private final String value;
    private final TensorType type;

    Tensor(Tracer tracer, String value, TensorType type) {
        this.tracer = tracer;
        this.value = value;
        this.type = type;
    }

    /** The IR value this tensor stands for. */
    public String value() { return value; }
    public TensorType type() { return type; }
    public int[] shape() { return type.shape().dims(); }
    public int dim() { return type.rank(); }

    /** Size along an axis; negative axes count from the end, as in PyTorch. */
    public int size(int axis) { return type.dim(type.shape().axis(axis)); }

    Tracer tracer() { return tracer; }

    private Tensor op(Op op, Tensor... others) {
        String[] in = new String[others.length + 1];
        in[0] = value;
        for (int i = 0; i < others.length; i++) {
            if (others[i].tracer != tracer) throw new IllegalArgumentException("tensors come from different traces");
            in[i + 1] = others[i].value;
        }
        return tracer.emit(op, List.of(in));
    }

    public Tensor add(Tensor o) { return op(new Binary(Binary.Kind.ADD), o); }
    public Tensor sub(Tensor o) { return op(new Binary(Binary.Kind.SUB), o); }
    public Tensor mul(Tensor o) { return op(new Binary(Binary.Kind.MUL), o); }
    public Tensor div(Tensor o) { return op(new Binary(Binary.Kind.DIV), o); }
    /** torch.minimum / torch.maximum: broadcasting, NaN if either operand is NaN. */
    public Tensor minimum(Tensor o) { return op(new Binary(Binary.Kind.MIN), o); }
    public Tensor maximum(Tensor o) { return op(new Binary(Binary.Kind.MAX), o); }
    /** F.prelu: x where x ≥ 0, slope·x elsewhere, the slope broadcast (shape [C,1,1] for one per channel of NCHW). */
    public Tensor prelu(Tensor slope) { return op(new Binary(Binary.Kind.PRELU), slope); }

    // comparisons give masks: f32 tensors of 1 (true) and 0 (false), as the IR has no bool dtype
    public Tensor eq(Tensor o) { return op(new Binary(Binary.Kind.EQ), o); }
    public Tensor lt(Tensor o) { return op(new Binary(Binary.Kind.LT), o); }
    public Tensor le(Tensor o) { return op(new Binary(Binary.Kind.LE), o); }
    public Tensor gt(Tensor o) { return op(new Binary(Binary.Kind.GT), o); }
    public Tensor ge(Tensor o) { return op(new Binary(Binary.Kind.GE), o); }
    public Tensor eq(double v) { return eq(scalar(v)); }
    public Tensor lt(double v) { return lt(scalar(v)); }
    public Tensor le(double v) { return le(scalar(v)); }
    public Tensor gt(double v) { return gt(scalar(v)); }
    public Tensor ge(double v) { return ge(scalar(v)); }
    /** torch.logical_not of a mask: 1 where this is 0, else 0. */
    public Tensor logicalNot() { return op(Unary.of(Unary.Kind.NOT)); }

    /** torch.where(cond, a, b): a where cond is non-zero, else b; the three broadcast together. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return cond.op(new Where(), a, b); }
    /** x.where(cond, other), as torch.Tensor.where: this where cond is non-zero, else other. */
    public Tensor where(Tensor cond, Tensor other) { return where(cond, this, other); }
    /** x.masked_fill(mask, value): value where the mask is non-zero, else this (−∞ for attention masks). */
    public Tensor maskedFill(Tensor mask, double value) { return where(mask, scalar(value), this); }

    private Tensor scalar(double v) { return tracer.constant("scalar", HostTensor.full(Shape.of(), (float) v)); }

    public Tensor mul(double factor) { return op(new Scale((float) factor)); }
    public Tensor div(double divisor) { return op(new Scale((float) (1.0 / divisor))); }

    /** Matrix product with batch broadcasting (torch.matmul / torch.bmm for rank ≥ 2). */
    public Tensor matmul(Tensor o) { return op(new MatMul(), o); }
    public Tensor bmm(Tensor o) { return matmul(o); }

    // element-wise functions, named as in torch; each is one Unary.Kind, defined once in ir
    public Tensor relu() { return op(Unary.of(Unary.Kind.RELU)); }
    public Tensor relu6() { return clamp(0, 6); }
    public Tensor leakyRelu(double slope) { return op(Unary.of(Unary.Kind.LEAKY_RELU, (float) slope)); }
    public Tensor sigmoid() { return op(Unary.of(Unary.Kind.SIGMOID)); }
    public Tensor tanh() { return op(Unary.of(Unary.Kind.TANH)); }
    public Tensor gelu() { return op(Unary.of(Unary.Kind.GELU)); }
    /** GELU's tanh approximation (torch: gelu(x, approximate='tanh')). */
    public Tensor geluTanh() { return op(Unary.of(Unary.Kind.GELU_TANH)); }
    public Tensor silu() { return op(Unary.of(Unary.Kind.SILU)); }
    public Tensor mish() { return op(Unary.of(Unary.Kind.MISH)); }
    public Tensor hardswish() { return op(Unary.of(Unary.Kind.HARD_SWISH)); }
    /** torch's hardsigmoid: clamp(x/6 + 1/2, 0, 1). */
    public Tensor hardsigmoid() { return op(Unary.of(Unary.Kind.HARD_SIGMOID, 1f / 6, 0.5f)); }
    public Tensor elu(double alpha) { return op(Unary.of(Unary.Kind.ELU, (float) alpha)); }
    public Tensor selu() { return op(Unary.of(Unary.Kind.SELU, 1.67326319217681884765625f, 1.05070102214813232421875f)); }
    public Tensor softplus() { return op(Unary.of(Unary.Kind.SOFTPLUS)); }
    public Tensor softsign() { return op(Unary.of(Unary.Kind.SOFTSIGN)); }
    public Tensor clamp(double min, double max) { return op(Unary.of(Unary.Kind.CLIP, (float) min, (float) max)); }
    public Tensor exp() { return op(Unary.of(Unary.Kind.EXP)); }
    public Tensor log() { return op(Unary.of(Unary.Kind.LOG)); }
    public Tensor sqrt() { return op(Unary.of(Unary.Kind.SQRT)); }
    public Tensor rsqrt() { return sqrt().reciprocal(); }
    public Tensor erf() { return op(Unary.of(Unary.Kind.ERF)); }
    public Tensor abs() { return op(Unary.of(Unary.Kind.ABS)); }
    public Tensor neg() { return op(Unary.of(Unary.Kind.NEG)); }
    public Tensor reciprocal() { return op(Unary.of(Unary.Kind.RECIPROCAL)); }
    public Tensor floor() { return op(Unary.of(Unary.Kind.FLOOR)); }
    public Tensor ceil() { return op(Unary.of(Unary.Kind.CEIL)); }
    public Tensor round() { return op(Unary.of(Unary.Kind.ROUND)); }
    public Tensor sign() { return op(Unary.of(Unary.Kind.SIGN)); }
    public Tensor pow(double exponent) { return op(Unary.of(Unary.Kind.POW, (float) exponent)); }

    public Tensor softmax(int dim) { return op(new Softmax(type.shape().axis(dim))); }

    // reductions, named as in torch; dims may be negative; each is one Reduce op
    public Tensor sum(int... dims) { return reduce(Reduce.Kind.SUM, dims, false); }
    public Tensor sum(int[] dims, boolean keepDim) { return reduce(Reduce.Kind.SUM, dims, keepDim); }
    public Tensor mean(int... dims) { return reduce(Reduce.Kind.MEAN, dims, false); }
    /** x.mean((2, 3), keepdim=True) is {@code x.mean(new int[]{2, 3}, true)}. */
    public Tensor mean(int[] dims, boolean keepDim) { return reduce(Reduce.Kind.MEAN, dims, keepDim); }
    /** torch.amax / amin: NaN if any reduced element is NaN. */
    public Tensor amax(int... dims) { return reduce(Reduce.Kind.MAX, dims, false); }
    public Tensor amax(int[] dims, boolean keepDim) { return reduce(Reduce.Kind.MAX, dims, keepDim); }
    public Tensor amin(int... dims) { return reduce(Reduce.Kind.MIN, dims, false); }
    public Tensor amin(int[] dims, boolean keepDim) { return reduce(Reduce.Kind.MIN, dims, keepDim); }
    public Tensor prod(int dim, boolean keepDim) { return reduce(Reduce.Kind.PROD, new int[]{dim}, keepDim); }
    public Tensor logsumexp(int[] dims, boolean keepDim) { return reduce(Reduce.Kind.LOG_SUM_EXP, dims, keepDim); }

    /** Any reduction kind over dims (negative counting from the end; none means every axis). */
    public Tensor reduce(Reduce.Kind kind, int[] dims, boolean keepDim) {
        java.util.TreeSet<Integer> axes = new java.util.TreeSet<>();
        for (int d : dims)
            if (!axes.add(type.shape().axis(d))) throw new ShapeException("dim " + d + " repeated in " + Arrays.toString(dims) + " for " + type);
        if (dims.length == 0) for (int i = 0; i < type.rank(); i++) axes.add(i);
        if (axes.isEmpty()) return this;
        return op(new Reduce(kind, dev.kiln.ir.Ints.of(axes.stream().mapToInt(Integer::intValue).toArray()), keepDim));
    }

    /** torch.Tensor.view / reshape: one dimension may be −1 and is inferred. */
    public Tensor view(int... dims) {
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) throw new ShapeException("view " + Arrays.toString(dims) + " has more than one -1");
                infer = i;
            } else if (d[i] <= 0) {
                throw new ShapeException("view " + Arrays.toString(dims) + " of " + type + " has size " + d[i] + "; sizes must be positive or -1");
            } else known *= d[i];
        }
        if (infer >= 0) {
            if (known == 0 || type.shape().size() % known != 0)
                throw new ShapeException("cannot view " + type + " as " + Arrays.toString(dims));
            d[infer] = (int) (type.shape().size() / known);
        }
        return op(new Reshape(d));
    }

    public Tensor reshape(int... dims) { return view(dims); }

    /** torch.flatten(x, startDim): dimensions from startDim on merged into one. */
    public Tensor flatten(int startDim) {
        int s = type.shape().axis(startDim);
        int[] d = new int[s + 1];
        for (int i = 0; i < s; i++) d[i] = type.dim(i);
        d[s] = -1;
        return view(d);
    }

    public Tensor permute(int... dims) {
        int[] p = new int[dims.length];
        for (int i = 0; i < dims.length; i++) p[i] = type.shape().axis(dims[i]);
        return op(new Transpose(p));
    }

    /** Swaps two axes (torch.transpose). */
    public Tensor transpose(int a, int b) {
        int[] p = new int[type.rank()];
        for (int i = 0; i < p.length; i++) p[i] = i;
        int x = type.shape().axis(a), y = type.shape().axis(b);
        p[x] = y;
        p[y] = x;
        return op(new Transpose(p));
    }

    /** x.select(dim, index), i.e. x[:, index] for dim 1; a negative index counts from the end. */
    public Tensor select(int dim, int index) {
        int axis = type.shape().axis(dim), n = type.dim(axis), i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) throw new ShapeException("index " + index + " out of range for axis " + dim + " of " + type);
        Tensor s = op(new Slice(new int[]{axis}, new int[]{i}, new int[]{i + 1}, new int[]{1}));
        int[] d = new int[type.rank() - 1];
        for (int k = 0, j = 0; k < type.rank(); k++) if (k != axis) d[j++] = type.dim(k);
        return s.view(d);
    }

    /**
     * torch.nn.functional.pixel_shuffle: [N, C·r², H, W] → [N, C, H·r, W·r], channel c·r² + i·r + j
     * going to row y·r + i, column x·r + j (a rank-6 view, a transpose, a view back).
     */
    public Tensor pixelShuffle(int r) {
        int[] d = nchw("pixel_shuffle", r);
        if (d[1] % (r * r) != 0) throw new ShapeException("pixel_shuffle(" + r + ") of " + type + ": channels not a multiple of " + r * r);
        int c = d[1] / (r * r);
        return view(d[0], c, r, r, d[2], d[3]).permute(0, 1, 4, 2, 5, 3).view(d[0], c, d[2] * r, d[3] * r);
    }

    /** torch.nn.functional.pixel_unshuffle, the inverse: [N, C, H·r, W·r] → [N, C·r², H, W]. */
    public Tensor pixelUnshuffle(int r) {
        int[] d = nchw("pixel_unshuffle", r);
        if (d[2] % r != 0 || d[3] % r != 0) throw new ShapeException("pixel_unshuffle(" + r + ") of " + type + ": H and W not multiples of " + r);
        return view(d[0], d[1], d[2] / r, r, d[3] / r, r).permute(0, 1, 3, 5, 2, 4).view(d[0], d[1] * r * r, d[2] / r, d[3] / r);
    }

    private int[] nchw(String what, int r) {
        if (r < 1) throw new ShapeException(what + ": factor " + r + " must be positive");
        if (type.rank() != 4) throw new ShapeException(what + " takes an NCHW tensor of rank 4, got " + type);
        return type.shape().dims();
    }

    @Override public String toString() { return "Tensor(%" + value + ": " + type + ")"; }
}
