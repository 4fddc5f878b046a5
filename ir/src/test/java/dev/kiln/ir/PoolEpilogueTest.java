package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Pool;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pool ending a conv2d's epilogue: its rules, shape, reference semantics (the conv then the pool op), text round trip, verifier. */
class PoolEpilogueTest {
    static final Pool MAX2 = new Pool(true, Ints.of(2, 2), Ints.of(2, 2), Ints.filled(4, 0), false);
    static final Pool AVG3 = new Pool(false, Ints.of(3, 3), Ints.of(2, 2), Ints.of(1, 1, 1, 1), true);

    @Test void aPoolEndsTheListAndNothingFollowsIt() {
        Epilogue e = Epilogue.of(Act.RELU).then(MAX2);
        assertEquals(MAX2, e.pool());
        assertEquals(Epilogue.of(Act.RELU), e.withoutPool());
        assertFalse(e.accepts(Epilogue.act(Act.RELU)));
        var after = assertThrows(IllegalArgumentException.class, () -> e.then(Act.RELU));
        assertTrue(after.getMessage().contains("a pool must be its last post-op"), after.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Epilogue.of(Epilogue.ADD).then(MAX2));
        assertThrows(IllegalStateException.class, e::stages);
        assertEquals(1, e.withoutPool().stages().size());
    }

    @Test void textRoundTrip() {
        for (Epilogue e : List.of(Epilogue.of(Act.RELU).then(MAX2), Epilogue.of(AVG3), Epilogue.of(new Pool(false, Ints.of(2, 3), Ints.of(1, 2), Ints.of(0, 1, 1, 0), false)))) {
            assertEquals(e, Epilogue.parse(e.toString()));
        }
        assertEquals("[relu, max_pool(k=2x2,s=2x2,p=0x0x0x0)]", Epilogue.of(Act.RELU).then(MAX2).toString());
        var bad = assertThrows(IllegalArgumentException.class, () -> Epilogue.parse("[max_pool(k=2x2,s=2x2,p=0x0x0x0,count_pad)]"));
        assertTrue(bad.getMessage().contains("a pool post-op looks like"), bad.getMessage());
        Graph g = convGraph(Epilogue.of(Act.RELU).then(AVG3));
        String text = IrPrinter.print(g);
        assertEquals(text, IrPrinter.print(IrParser.parse(text, "pool.kir")));
    }

    @Test void referenceIsTheConvThenThePoolOp() {
        Graph fused = convGraph(Epilogue.of(Act.RELU).then(MAX2));
        assertArrayEquals(new int[]{1, 8, 2, 3}, fused.typeOf("y").shape().dims());
        HostTensor x = HostTensor.normal(Shape.of(1, 3, 7, 9), 5);
        HostTensor conv = ReferenceInterpreter.run(convGraph(Epilogue.of(Act.RELU)), Map.of("x", x)).get("y");
        HostTensor want = new MaxPool2d(Ints.of(2, 2), Ints.of(2, 2), Ints.filled(4, 0)).evaluate(List.of(conv));
        assertArrayEquals(want.data(), ReferenceInterpreter.run(fused, Map.of("x", x)).get("y").data());
    }

    @Test void onlyAConvCarriesAPool() {
        GraphBuilder b = new GraphBuilder("lin");
        String x = b.input("x", TensorType.f32(2, 4));
        String w = b.constant("w", HostTensor.normal(Shape.of(3, 4), 1));
        b.output(b.add("y", new Linear(Epilogue.of(MAX2)), List.of(x, w), ""));
        var problems = Verifier.problems(b.build());
        assertTrue(problems.stream().anyMatch(p -> p.contains("only conv2d may")), problems.toString());
    }

    private static Graph convGraph(Epilogue e) {
        GraphBuilder b = new GraphBuilder("conv");
        String x = b.input("x", TensorType.f32(1, 3, 7, 9));
        String w = b.constant("w", HostTensor.normal(Shape.of(8, 3, 3, 3), 2)), bias = b.constant("b", HostTensor.normal(Shape.of(8), 3));
        b.output(b.add("y", Conv2d.of(0, 1).withEpilogue(e), List.of(x, w, bias), ""));
        return b.build();
    }
}
