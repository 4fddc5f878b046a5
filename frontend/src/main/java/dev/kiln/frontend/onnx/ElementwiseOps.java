package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;

import java.util.List;
import java.util.Map;

/** Arithmetic, activations, Softmax, and the identities (Identity, Dropout at inference). */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("Add", n -> binary(n, Binary.Kind.ADD));
        r.put("Sub", n -> binary(n, Binary.Kind.SUB));
        r.put("Mul", n -> binary(n, Binary.Kind.MUL));
        r.put("Div", n -> binary(n, Binary.Kind.DIV));
        r.put("Relu", n -> unary(n, Unary.of(Unary.Kind.RELU)));
        r.put("LeakyRelu", n -> unary(n, new Unary(Unary.Kind.LEAKY_RELU, n.attrFloat("alpha", 0.01f))));
        r.put("Sigmoid", n -> unary(n, Unary.of(Unary.Kind.SIGMOID)));
        r.put("Tanh", n -> unary(n, Unary.of(Unary.Kind.TANH)));
        r.put("Exp", n -> unary(n, Unary.of(Unary.Kind.EXP)));
        r.put("Gelu", ElementwiseOps::gelu);
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "Gelu"), ElementwiseOps::gelu);
        r.put("Erf", n -> {
            throw n.unsupported("Kiln has no erf of its own; it imports Erf only inside GELU, x·0.5·(1 + erf(x/√2)),"
                    + " with every intermediate used once (this Erf is not part of that pattern)");
        });
        r.put("Softmax", ElementwiseOps::softmax);
        r.put("Identity", n -> n.set(0, n.in(0)));
        r.put("Dropout", ElementwiseOps::dropout);
    }

    private static void binary(NodeView n, Binary.Kind kind) {
        n.emitOut(new Binary(kind), List.of(n.ir(0), n.ir(1)));
    }

    private static void unary(NodeView n, Unary op) {
        n.emitOut(op, List.of(n.ir(0)));
    }

    private static void gelu(NodeView n) {
        if (!n.attrString("approximate", "none").equals("none"))
            throw n.unsupported("approximate='" + n.attrString("approximate", "") + "' GELU is not supported (Kiln's GELU is exact)");
        unary(n, Unary.of(Unary.Kind.GELU));
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
