package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Where;

/**
 * What FuseAttention makes of a Where(cond, fill, scores) (masked_fill, as PyTorch exports it) or
 * Where(cond, scores, fill) (torch.where) on the attention scores, fill being a scalar −∞: a
 * constant cond that is exactly the upper triangle (key j masked for query i when j > i)
 * becomes the causal flag; any other cond becomes a selecting mask of −∞ and 0 in cond's own
 * shape, folded when cond is constant, else computed by a small Where node (a [B,1,1,N] padding
 * mask stays that size). A finite fill is refused: it replaces a score, which no additive mask can.
 */
record AttentionMask(int scoreSide, String cond, boolean maskedWhereTrue) {
    /** The mask a Where node makes, or the Refusal saying why it is not one. */
    static Object of(Graph g, Node where, java.util.function.Predicate<String> isScoreSide) {
        if (!(where.op() instanceof Where)) return null;
        String a = where.inputs().get(1), b = where.inputs().get(2);
        int side = isScoreSide.test(a) ? 1 : isScoreSide.test(b) ? 2 : -1;
        if (side < 0) return new Refusal(FusionReport.Kind.NOT_THE_PATTERN, "softmax input is a where of two non-matmul values");
        HostTensor fill = scalar(g, where.inputs().get(3 - side));
        if (fill == null) return new Refusal(FusionReport.Kind.NOT_THE_PATTERN, "where's other value is not a scalar constant");
        if (fill.data()[0] != Float.NEGATIVE_INFINITY)
            return new Refusal(FusionReport.Kind.NOT_THE_PATTERN, "masked_fill value " + fill.data()[0] + " is not -inf");
        return new AttentionMask(side, where.inputs().getFirst(), side == 2);
    }

    /** Whether cond is a constant whose masked entries, broadcast to [.., M, N], are exactly j > i. */
    boolean isCausal(Graph g, int m, int n) {
        HostTensor c = g.isConstant(cond) ? g.weights().get(cond) : null;
        if (c == null) return false;
        int[] d = c.shape().dims();
        if (d.length < 2 || d[d.length - 1] != n || d[d.length - 2] != m) return false;
        float[] x = c.data();
        for (int p = 0; p < x.length; p++) {
            int j = p % n, i = p / n % m;
            if (masked(x[p]) != (j > i)) return false;
        }
        return true;
    }

    private boolean masked(float c) { return (c != 0) == maskedWhereTrue; }   // NaN counts as true, as in Where

    /** Whether cond's shape broadcasts to scores' [.., M, N] with its last axis N (the fused op's mask rule). */
    boolean fits(Graph g, TensorType scores) {
        int[] d = g.typeOf(cond).shape().dims(), s = scores.shape().dims();
        if (d.length > s.length || d.length == 0 || d[d.length - 1] != s[s.length - 1]) return false;
        for (int a = 0; a < d.length - 1; a++) if (d[a] != 1 && d[a] != s[s.length - d.length + a]) return false;
        return true;
    }

    /** Emits the selecting mask (−∞ where masked, else 0) and returns its name in the new graph. */
    String emit(Rewrite r, Graph g, String origin) {
        HostTensor c = g.isConstant(cond) ? g.weights().get(cond) : null;
        if (c != null) {
            float[] y = new float[c.data().length];
            for (int p = 0; p < y.length; p++) y[p] = masked(c.data()[p]) ? Float.NEGATIVE_INFINITY : 0f;
            return r.out.constant(r.out.freshName(cond + ".mask"), HostTensor.of(c.shape(), y));
        }
        String inf = r.out.constant(r.out.freshName("neg_inf"), HostTensor.of(dev.kiln.ir.Shape.of(), new float[]{Float.NEGATIVE_INFINITY}));
        String zero = r.out.constant(r.out.freshName("zero"), HostTensor.of(dev.kiln.ir.Shape.of(), new float[]{0f}));
        return r.out.add(r.out.freshName(cond + ".mask"), new Where(),
                java.util.List.of(r.map(cond), maskedWhereTrue ? inf : zero, maskedWhereTrue ? zero : inf), origin);
    }

    static HostTensor scalar(Graph g, String v) {
        HostTensor t = g.isConstant(v) ? g.weights().get(v) : null;
        return t != null && t.size() == 1 ? t : null;
    }
}
