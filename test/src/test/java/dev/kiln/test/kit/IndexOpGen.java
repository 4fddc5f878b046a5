package dev.kiln.test.kit;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.CumSum;
import dev.kiln.ir.op.Gather;

/**
 * The generators of the ops that read integers as positions, beside GraphGen as ImageOpGen is:
 * gather along any axis (rank-0 to rank-2 indices, negative ones counting from the end) and
 * cum_sum in every direction. Gather's indices are always a constant in range: the properties
 * write NaN and ±∞ into inputs and redraw them as f32, which would make an index input invalid,
 * and an invalid index is an error by design (IntegerOpsOnBackendsTest checks it, and i64 inputs).
 */
final class IndexOpGen {
    private final GraphGen g;
    private final Choices c;

    IndexOpGen(GraphGen g) {
        this.g = g;
        this.c = g.c;
    }

    boolean gather() {
        String x = g.operand(t -> t.rank() >= 1 && t.rank() <= 3);
        if (x == null) return false;
        int[] d = g.type(x).shape().dims();
        int axis = c.below(d.length);
        int[] kd = switch (c.below(3)) {
            case 0 -> new int[0];
            case 1 -> new int[]{1 + c.below(6)};
            default -> new int[]{1 + c.below(3), 1 + c.below(5)};
        };
        float[] k = new float[(int) Shape.of(kd).size()];
        for (int i = 0; i < k.length; i++) k[i] = c.below(2 * d[axis]) - d[axis];
        return g.add(new Gather(axis), x, g.b.constant(g.name("idx"), HostTensor.of(Shape.of(kd), k))) != null;
    }

    boolean cumSum() {
        String x = g.operand(t -> t.rank() >= 1);
        if (x == null) return false;
        return g.add(new CumSum(c.below(g.type(x).rank()), c.chance(30), c.chance(30)), x) != null;
    }
}
