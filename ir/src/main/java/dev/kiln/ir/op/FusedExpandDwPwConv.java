package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * An inverted-residual block (MobileNetV2, EfficientNet's MBConv without squeeze-excitation) as
 * one op: a 1×1 expansion conv and its activation, a depthwise conv and its activation, then a
 * 1×1 projection and its epilogue (a residual add is an epilogue's extra):
 * e = expandAct(conv1x1(x, expandWeight) + expandBias); m = midAct(dwconv(e, dwWeight) + dwBias);
 * y = epilogue(conv1x1(m, pwWeight) + pwBias, extra).
 *
 * <p>Operands: x[N,C,H,W], expandWeight[M,C,1,1], expandBias[M], dwWeight[M,1,KH,KW], dwBias[M],
 * pwWeight[O,M,1,1], pwBias[O], and extra (result-shaped) when the epilogue reads one. Output rows
 * need only the expanded rows under the depthwise window, so a backend can stream the expanded
 * tensor (M channels, often 6× C) through a few rows of scratch instead of storing it. The padding
 * applies to the expanded tensor (zeros after the expansion's activation), not to x.
 */
public record FusedExpandDwPwConv(Ints stride, Ints padding, Ints dilation, Act expandAct, Act midAct,
                                  Epilogue epilogue) implements Op, EpilogueAnchor {
    @Override public FusedExpandDwPwConv withEpilogue(Epilogue e) {
        return new FusedExpandDwPwConv(stride, padding, dilation, expandAct, midAct, e);
    }

    public FusedExpandDwPwConv {
        java.util.Objects.requireNonNull(expandAct, "expandAct");
        java.util.Objects.requireNonNull(midAct, "midAct");
        java.util.Objects.requireNonNull(epilogue, "epilogue");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
        Checks.positive(Checks.pair(dilation, "dilation"), "dilation");
    }

    /** The same, from arrays (copied). */
    public FusedExpandDwPwConv(int[] stride, int[] padding, int[] dilation, Act expandAct, Act midAct, Epilogue epilogue) {
        this(Ints.of(stride), Ints.of(padding), Ints.of(dilation), expandAct, midAct, epilogue);
    }

    /** The projection's bias, which the epilogue adds to. */
    @Override public int biasOperand() { return 6; }

    /** The depthwise and projection part: what follows the expansion. */
    public FusedDwPwConv dwPw() { return new FusedDwPwConv(stride, padding, dilation, midAct, epilogue); }

    @Override public TensorType inferType(List<TensorType> in) {
        int n = 7 + epilogue.extraOperands();
        Checks.arity(this, in, n, n);
        TensorType x = in.get(0), ew = in.get(1), eb = in.get(2);
        Checks.rank(this, "input", x, 4);
        Checks.require(ew.rank() == 4 && ew.dim(1) == x.dim(1) && ew.dim(2) == 1 && ew.dim(3) == 1, this,
                "expansion weight " + ew + " must be [M," + x.dim(1) + ",1,1] for input " + x);
        Checks.require(eb.rank() == 1 && eb.dim(0) == ew.dim(0), this, "expansion bias " + eb + " must be [" + ew.dim(0) + "]");
        TensorType expanded = TensorType.f32(x.dim(0), ew.dim(0), x.dim(2), x.dim(3));
        List<TensorType> rest = new java.util.ArrayList<>(in.subList(2, in.size()));
        rest.set(0, expanded);
        return dwPw().inferType(rest);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        HostTensor e = FusedDwPwConv.POINTWISE.evaluate(List.of(in.get(0), in.get(1), in.get(2)));
        e = Epilogue.of(expandAct).apply(e, null);
        List<HostTensor> rest = new java.util.ArrayList<>(in.subList(2, in.size()));
        rest.set(0, e);
        return dwPw().evaluate(rest);
    }
}
