package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Depthwise conv, its activation, then a 1×1 pointwise conv and its epilogue, as one op:
 * mid = midAct(dwconv(x, dwWeight) + dwBias); y = epilogue(pwconv(mid, pwWeight) + pwBias, extra).
 *
 * <p>Operands: x[N,C,H,W], dwWeight[C,1,KH,KW], dwBias[C], pwWeight[O,C,1,1], pwBias[O], and
 * extra (result-shaped) when the epilogue reads one. Each output pixel needs only the depthwise
 * values at that pixel, so a backend computes the depthwise result one tile at a time and
 * consumes it at once; the [N,C,OH,OW] intermediate never has to exist in full.
 */
public record FusedDwPwConv(Ints stride, Ints padding, Ints dilation, Act midAct,
                            Epilogue epilogue) implements Op, EpilogueAnchor, PadsInput {
    @Override public FusedDwPwConv withEpilogue(Epilogue e) { return new FusedDwPwConv(stride, padding, dilation, midAct, e); }

    public FusedDwPwConv {
        java.util.Objects.requireNonNull(midAct, "midAct");
        java.util.Objects.requireNonNull(epilogue, "epilogue");
        java.util.Objects.requireNonNull(stride, "stride");
        java.util.Objects.requireNonNull(padding, "padding");
        java.util.Objects.requireNonNull(dilation, "dilation");
    }

    /** The same, from arrays (copied). */
    public FusedDwPwConv(int[] stride, int[] padding, int[] dilation, Act midAct, Epilogue epilogue) {
        this(Ints.of(stride), Ints.of(padding), Ints.of(dilation), midAct, epilogue);
    }
    /** The pointwise bias, which the epilogue adds to. */
    @Override public int biasOperand() { return 4; }


    public Conv2d depthwise(int channels) { return new Conv2d(stride, padding, dilation, channels); }

    public static final Conv2d POINTWISE = Conv2d.of(0, 1);

    @Override public TensorType inferType(List<TensorType> in) {
        int n = 5 + epilogue.extraOperands();
        Checks.arity(this, in, n, n);
        TensorType x = in.get(0), dw = in.get(1), pw = in.get(3);
        Checks.rank(this, "input", x, 4);
        Checks.require(dw.rank() == 4 && dw.dim(0) == x.dim(1) && dw.dim(1) == 1, this,
                "depthwise weight " + dw + " must be [" + x.dim(1) + ",1,kh,kw] for input " + x);
        Checks.require(pw.rank() == 4 && pw.dim(1) == x.dim(1) && pw.dim(2) == 1 && pw.dim(3) == 1, this,
                "pointwise weight " + pw + " must be [O," + x.dim(1) + ",1,1]");
        TensorType mid = depthwise(x.dim(1)).inferType(in.subList(0, 3));
        TensorType out = POINTWISE.inferType(List.of(mid, pw, in.get(4)));
        epilogue.checkExtra(this, in, out);
        return out;
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        inferType(in.stream().map(HostTensor::type).toList());
        HostTensor mid = depthwise(in.get(0).shape().dim(1)).evaluate(in.subList(0, 3));
        mid = Epilogue.of(midAct).apply(mid, null);
        HostTensor y = POINTWISE.evaluate(List.of(mid, in.get(3), in.get(4)));
        return epilogue.apply(y, epilogue.hasExtra() ? in.get(5) : null);
    }
}
