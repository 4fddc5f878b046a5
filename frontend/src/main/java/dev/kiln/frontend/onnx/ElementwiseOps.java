package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;

import java.util.List;
import java.util.Map;

/**
 * Arithmetic, activations, Softmax, comparisons and Where, and the identities (Identity, Dropout at
 * inference). A bool tensor is an f32 mask of 1 and 0 in the IR (see {@link Binary}); bool and
 * integer constants read as masks or compared become f32 data.
 */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("Add", n -> binary(n, Binary.Kind.ADD));
        r.put("Sub", n -> binary(n, Binary.Kind.SUB));
        r.put("Mul", n -> binary(n, Binary.Kind.MUL));
        r.put("Div", n -> binary(n, Binary.Kind.DIV));
        r.put("Min", n -> variadic(n, Binary.Kind.MIN));
        r.put("Max", n -> variadic(n, Binary.Kind.MAX));
        r.put("PRelu", ElementwiseOps::prelu);
        for (var e : Map.of("Equal", Binary.Kind.EQ, "Less", Binary.Kind.LT, "LessOrEqual", Binary.Kind.LE, "Greater", Binary.Kind.GT,
                "GreaterOrEqual", Binary.Kind.GE).entrySet())
            r.put(e.getKey(), n -> n.emitOut(new Binary(e.getValue()), List.of(n.mask(0), n.mask(1))));
        r.put("Not", n -> n.emitOut(Unary.of(Unary.Kind.NOT), List.of(n.mask(0))));
        r.put("Where", n -> n.emitOut(new Where(), List.of(n.mask(0), n.ir(1), n.ir(2))));
        // each ONNX activation is one Unary.Kind; its math is defined once, in ir
        for (var e : Map.of("Relu", Unary.Kind.RELU, "Sigmoid", Unary.Kind.SIGMOID, "Tanh", Unary.Kind.TANH, "Exp", Unary.Kind.EXP,
                "Log", Unary.Kind.LOG, "Sqrt", Unary.Kind.SQRT, "Erf", Unary.Kind.ERF, "Abs", Unary.Kind.ABS, "Neg", Unary.Kind.NEG,
                "Reciprocal", Unary.Kind.RECIPROCAL).entrySet())
            r.put(e.getKey(), n -> unary(n, Unary.of(e.getValue())));
        for (var e : Map.of("Floor", Unary.Kind.FLOOR, "Ceil", Unary.Kind.CEIL, "Round", Unary.Kind.ROUND, "Sign", Unary.Kind.SIGN,
                "HardSwish", Unary.Kind.HARD_SWISH, "Softplus", Unary.Kind.SOFTPLUS, "Softsign", Unary.Kind.SOFTSIGN,
                "Mish", Unary.Kind.MISH).entrySet())
            r.put(e.getKey(), n -> unary(n, Unary.of(e.getValue())));
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "Silu"), n -> unary(n, Unary.of(Unary.Kind.SILU)));
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "HardSwish"), n -> unary(n, Unary.of(Unary.Kind.HARD_SWISH)));
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "Mish"), n -> unary(n, Unary.of(Unary.Kind.MISH)));
        r.put("LeakyRelu", n -> unary(n, Unary.of(Unary.Kind.LEAKY_RELU, n.attrFloat("alpha", 0.01f))));
        r.put("HardSigmoid", n -> unary(n, Unary.of(Unary.Kind.HARD_SIGMOID, n.attrFloat("alpha", 0.2f), n.attrFloat("beta", 0.5f))));
        r.put("Elu", n -> unary(n, Unary.of(Unary.Kind.ELU, n.attrFloat("alpha", 1f))));
        r.put("Selu", n -> unary(n, Unary.of(Unary.Kind.SELU, n.attrFloat("alpha", 1.67326319217681884765625f),
                n.attrFloat("gamma", 1.05070102214813232421875f))));
        r.put("Clip", ElementwiseOps::clip);
        r.put("Pow", ElementwiseOps::pow);
        r.put("Gelu", ElementwiseOps::gelu);
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "Gelu"), ElementwiseOps::gelu);
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "GeluTanh"), n -> unary(n, Unary.of(Unary.Kind.GELU_TANH)));
        r.put("Softmax", ElementwiseOps::softmax);
        r.put("Identity", n -> n.set(0, n.in(0)));
        r.put("Dropout", ElementwiseOps::dropout);
    }

    /** Integer operands (ids, positions) compute as exact f32 values, except a Div, which ONNX truncates for integers. */
    private static void binary(NodeView n, Binary.Kind kind) {
        boolean integer = n.ctx.isInteger(n.in(0)) || n.ctx.isInteger(n.in(1));
        if (integer && kind == Binary.Kind.DIV)
            throw n.unsupported("a Div of integer tensors (which truncates) is not supported; Kiln computes integers as f32 values");
        n.emitOut(new Binary(kind), integer ? List.of(n.mask(0), n.mask(1)) : List.of(n.ir(0), n.ir(1)));
    }

    /** Min / Max of one or more inputs (broadcast together), as a left fold of binary ops. */
    private static void variadic(NodeView n, Binary.Kind kind) {
        if (n.inputCount() == 0) throw n.malformed(n.opType() + " needs at least one input");
        String acc = n.ir(0);
        for (int i = 1; i < n.inputCount(); i++)
            acc = i == n.inputCount() - 1 ? n.emitOut(new Binary(kind), List.of(acc, n.ir(i)))
                    : n.emit(String.valueOf(i), new Binary(kind), List.of(acc, n.ir(i)));
        if (n.inputCount() == 1) n.set(0, n.in(0));
    }

    /**
     * PRelu: a single constant slope (nn.PReLU() exports one of shape [1,1,1]) is a LeakyReLU, an
     * activation a conv or linear before it fuses; a per-channel or computed slope is Binary PRELU,
     * which broadcasts it (nn.PReLU(C) exports shape [C,1,1]).
     */
    private static void prelu(NodeView n) {
        if (n.in(1) instanceof ImportContext.Value.Const c && c.data().size() == 1 && c.data().isFloating()
                && n.rank(1) <= n.rank(0)) {
            unary(n, Unary.of(Unary.Kind.LEAKY_RELU, (float) c.data().get(0)));
            return;
        }
        n.emitOut(new Binary(Binary.Kind.PRELU), List.of(n.ir(0), n.ir(1)));
    }

    private static void unary(NodeView n, Unary op) {
        n.emitOut(op, List.of(n.ir(0)));
    }

    private static void gelu(NodeView n) {
        String approximate = n.attrString("approximate", "none");
        switch (approximate) {
            case "none" -> unary(n, Unary.of(Unary.Kind.GELU));
            case "tanh" -> unary(n, Unary.of(Unary.Kind.GELU_TANH));
            default -> throw n.malformed("GELU approximate must be 'none' or 'tanh', got '" + approximate + "'");
        }
    }

    /** Clip: bounds from attributes before opset 11, from optional constant inputs after; a missing bound is ±∞. */
    private static void clip(NodeView n) {
        float lo = n.attrFloat("min", Float.NEGATIVE_INFINITY), hi = n.attrFloat("max", Float.POSITIVE_INFINITY);
        if (n.inputCount() > 1 && n.has(1)) lo = scalar(n, 1, "min");
        if (n.inputCount() > 2 && n.has(2)) hi = scalar(n, 2, "max");
        if (!(lo <= hi)) throw n.unsupported("Clip with min " + lo + " > max " + hi + " (ONNX leaves it undefined)");
        unary(n, Unary.of(Unary.Kind.CLIP, lo, hi));
    }

    /** Pow with a constant scalar exponent (x², √x, 1/x, ... as decomposed norms and GELU-tanh export it). */
    private static void pow(NodeView n) {
        unary(n, Unary.of(Unary.Kind.POW, scalar(n, 1, "exponent")));
    }

    private static float scalar(NodeView n, int input, String what) {
        ConstTensor t = n.constIn(input, what);
        if (t.size() != 1) throw n.unsupported("its " + what + " must be a single value, got " + t.size() + " values");
        return (float) t.get(0);
    }

    /** Softmax over one axis (opset 13 and later; older opsets flattened the trailing axes). */
    private static void softmax(NodeView n) {
        int rank = n.rank(0);
        n.emitOut(new Softmax(n.axis(n.attrInt("axis", -1), rank, "axis")), List.of(n.ir(0)));
    }

    /** Inference-mode dropout passes its input through; training mode and a used mask are refused. */
    private static void dropout(NodeView n) {
        if (n.has(2) && !(n.in(2) instanceof ImportContext.Value.Const c && c.data().getLong(0) == 0))
            throw n.unsupported("training_mode must be a constant false");
        if (n.used(1)) throw n.unsupported("the mask output is not supported");
        n.set(0, n.in(0));
    }
}
