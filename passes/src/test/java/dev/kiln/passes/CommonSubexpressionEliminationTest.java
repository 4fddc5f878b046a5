package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Transpose;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.passes.CheckedRewrite.count;
import static dev.kiln.passes.CheckedRewrite.run;
import static org.junit.jupiter.api.Assertions.*;

/** CSE merges ops by value equality (built in Java here, so each op has arrays of its own). */
class CommonSubexpressionEliminationTest {

    @Test
    void mergesOpsEqualByValueThoughBuiltFromDifferentArrays() {
        Graph after = run(pair(conv(new int[]{1, 1, 1, 1}), conv(new int[]{1, 1, 1, 1})), "cse").graph();
        assertEquals(1, count(after, Conv2d.class), after::toString);

        after = run(pair(new MaxPool2d(new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1, 1, 1}),
                new MaxPool2d(Ints.of(3, 3), Ints.of(1, 1), Ints.filled(4, 1))), "cse").graph();
        assertEquals(1, count(after, MaxPool2d.class), after::toString);
    }

    @Test
    void keepsOpsThatDifferInOneAttribute() {
        Graph after = run(pair(conv(new int[]{1, 1, 1, 1}), conv(new int[]{2, 1, 0, 1})), "cse").graph();
        assertEquals(2, count(after, Conv2d.class), after::toString);

        after = run(pair(new MaxPool2d(new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1, 1, 1}),
                new MaxPool2d(new int[]{3, 3}, new int[]{1, 1}, new int[]{2, 1, 0, 1})), "cse").graph();
        assertEquals(2, count(after, MaxPool2d.class), after::toString);
    }

    @Test
    void mergesWhatBecomesEqualOnceItsOperandsMerged() {
        GraphBuilder b = new GraphBuilder("chain");
        String x = b.input("x", TensorType.f32(2, 3, 4));
        String t1 = b.add(new Transpose(new int[]{2, 0, 1}), List.of(x), "");
        String t2 = b.add(new Transpose(new int[]{2, 0, 1}), List.of(x), "");
        String u1 = b.add(new Transpose(new int[]{0, 2, 1}), List.of(t1), "");
        String u2 = b.add(new Transpose(new int[]{0, 2, 1}), List.of(t2), "");
        Graph after = run(b.output(b.add(new Binary(Binary.Kind.ADD), List.of(u1, u2), "")).build(), "cse").graph();
        assertEquals(2, count(after, Transpose.class), after::toString);
    }

    private static Conv2d conv(int[] padding) { return new Conv2d(new int[]{1, 1}, padding, new int[]{1, 1}, 1); }

    /** x → a and x → b, added: two ops on the same operands. */
    private static Graph pair(Op a, Op b) {
        GraphBuilder g = new GraphBuilder("pair");
        String x = g.input("x", TensorType.f32(1, 2, 6, 6));
        List<String> in = List.of(x);
        if (a instanceof Conv2d) in = List.of(x, g.constant("w", HostTensor.normal(Shape.of(2, 2, 3, 3), 3)));
        String ya = g.add(a, in, "a"), yb = g.add(b, in, "b");
        assertEquals(g.typeOf(ya), g.typeOf(yb), "the test adds like-shaped results");
        return g.output(g.add(new Binary(Binary.Kind.ADD), List.of(ya, yb), "")).build();
    }
}
