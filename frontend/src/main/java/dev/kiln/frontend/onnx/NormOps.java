package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.Reshape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * LayerNormalization (opset 17) and InstanceNormalization, each one {@link LayerNorm}. An instance
 * norm normalises over [2, rank) and applies its per-channel scale and bias after, as broadcast
 * Binary MUL/ADD with [C,1,...] operands, left out when they are the ones and zeros PyTorch's
 * GroupNorm export passes (Reshape [N,G,−1] → InstanceNormalization → Reshape → Mul → Add), so a
 * group norm becomes reshape, layer norm, reshape and its own affine.
 */
final class NormOps {
    private NormOps() {}

    static void register(Map<String, OpImporter> r) {
        r.put("LayerNormalization", NormOps::layerNormalization);
        r.put("InstanceNormalization", NormOps::instanceNormalization);
        r.put(OpImporter.key(OpImporter.KILN_DOMAIN, "LayerNorm"), NormOps::recognisedLayerNorm);
    }

    /**
     * The LayerNorm {@link ImportPatterns} recognised in its opset-13 decomposition: x, then the γ and
     * β it absorbed (constants). One that is not of the normalised shape (broadcast from fewer
     * axes) is applied after as a Binary MUL/ADD, which is what the decomposition computed.
     */
    private static void recognisedLayerNorm(NodeView n) {
        int[] x = n.dims(0);
        int axis = n.axis(n.attrInt("axis", -1), x.length, "axis");
        int[] trailing = Arrays.copyOfRange(x, axis, x.length);
        List<String> in = new ArrayList<>(List.of(n.ir(0)));
        int i = 1;
        while (i < n.inputCount() && Arrays.equals(n.dims(i), trailing)) in.add(n.ir(i++));
        LayerNorm op = new LayerNorm(axis, n.attrFloat("epsilon", 1e-5f));
        if (i == n.inputCount()) { n.emitOut(op, in); return; }
        String v = n.emit("norm", op, in);
        for (; i < n.inputCount(); i++) {
            Binary b = new Binary(i == 1 ? Binary.Kind.MUL : Binary.Kind.ADD);
            v = i == n.inputCount() - 1 ? n.emitOut(b, List.of(v, n.ir(i))) : n.emit("affine" + i, b, List.of(v, n.ir(i)));
        }
    }

    private static void layerNormalization(NodeView n) {
        int[] x = n.dims(0);
        int axis = n.axis(n.attrInt("axis", -1), x.length, "axis");
        if (n.attrInt("stash_type", 1) != 1)
            throw n.unsupported("stash_type=" + n.attrInt("stash_type", 1) + " is not supported (Kiln computes the statistics in float or wider: stash_type=1)");
        if (n.used(1) || n.used(2)) throw n.unsupported("the Mean and InvStdDev outputs (training) are not supported");
        int[] trailing = Arrays.copyOfRange(x, axis, x.length);
        List<String> in = new ArrayList<>(List.of(n.ir(0)));
        for (int i = 1; i <= 2; i++) {
            if (i >= n.inputCount() || !n.has(i)) break;
            if (!Arrays.equals(n.dims(i), trailing))
                throw n.unsupported((i == 1 ? "Scale " : "B ") + Arrays.toString(n.dims(i)) + " is not of the normalised shape "
                        + Arrays.toString(trailing) + " (broadcast scale or bias is not supported)");
            in.add(n.ir(i));
        }
        n.emitOut(new LayerNorm(axis, n.attrFloat("epsilon", 1e-5f)), in);
    }

    private static void instanceNormalization(NodeView n) {
        int[] x = n.dims(0);
        if (x.length < 3) throw n.malformed("input " + Arrays.toString(x) + " has no spatial axes (rank " + x.length + " < 3)");
        int c = x[1];
        for (int i = 1; i <= 2; i++)
            if (!Arrays.equals(n.dims(i), new int[]{c}))
                throw n.malformed((i == 1 ? "scale " : "B ") + Arrays.toString(n.dims(i)) + " must be [" + c + "] (one per channel of " + Arrays.toString(x) + ")");
        boolean scale = !isConstant(n.in(1), 1), bias = !isConstant(n.in(2), 0);
        LayerNorm op = new LayerNorm(2, n.attrFloat("epsilon", 1e-5f));
        if (!scale && !bias) { n.emitOut(op, List.of(n.ir(0))); return; }
        String v = n.emit("norm", op, List.of(n.ir(0)));
        if (scale) v = affine(n, v, 1, Binary.Kind.MUL, !bias);
        if (bias) affine(n, v, 2, Binary.Kind.ADD, true);
    }

    /** v ∘ operand i viewed as [C,1,...] (broadcast over the spatial axes). */
    private static String affine(NodeView n, String v, int i, Binary.Kind kind, boolean last) {
        int rank = n.rank(0);
        int[] dims = new int[rank - 1];
        Arrays.fill(dims, 1);
        dims[0] = n.dims(0)[1];
        String per = n.in(i) instanceof Value.Const k ? n.constant(n.out(0) + (i == 1 ? ".scale" : ".bias"), k.data().reshape(dims).toHost())
                : n.emit(i == 1 ? "scale" : "bias", new Reshape(dims), List.of(n.ir(i)));
        return last ? n.emitOut(new Binary(kind), List.of(v, per)) : n.emit(i == 1 ? "scaled" : "shifted", new Binary(kind), List.of(v, per));
    }

    private static boolean isConstant(Value v, double value) {
        if (!(v instanceof Value.Const k) || !k.data().isFloating()) return false;
        for (int i = 0; i < k.data().size(); i++) if (k.data().get(i) != value) return false;
        return true;
    }
}
