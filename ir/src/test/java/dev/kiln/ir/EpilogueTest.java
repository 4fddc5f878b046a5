package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.ScalarExpr;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpilogueTest {
    @Test
    void refusesASecondAddOrMulOfTheExtraOperand() {
        var twoAdds = assertThrows(IllegalArgumentException.class, () -> Epilogue.of(Epilogue.ADD, Epilogue.act(Act.RELU), Epilogue.ADD));
        assertTrue(twoAdds.getMessage().contains("[add, relu, add]") && twoAdds.getMessage().contains("by add twice"), twoAdds.getMessage());
        var twoMuls = assertThrows(IllegalArgumentException.class, () -> Epilogue.of(Epilogue.MUL).then(Epilogue.MUL));
        assertTrue(twoMuls.getMessage().contains("by mul twice"), twoMuls.getMessage());
        assertFalse(Epilogue.of(Epilogue.MUL).accepts(Epilogue.MUL));
    }

    @Test
    void refusesTheIdentityAsAPostOp() {
        assertThrows(IllegalArgumentException.class, () -> Epilogue.act(Act.NONE));
        assertEquals(Epilogue.NONE, Epilogue.of(Act.NONE));
        assertEquals(Epilogue.of(Act.RELU), Epilogue.of(Act.RELU).then(Act.NONE));
    }

    @Test
    void allowsAnyActivationsAroundOneAddAndOneMulInEitherOrder() {
        Epilogue e = Epilogue.of(Epilogue.act(Act.SIGMOID), Epilogue.MUL, Epilogue.act(Act.RELU), Epilogue.ADD, Epilogue.act(Act.clip(0, 6)));
        assertTrue(e.hasExtra());
        assertEquals(List.of(Act.SIGMOID, Act.RELU, Act.clip(0, 6)), e.activations());
        // sigmoid(0) = 0.5; · 4 = 2; relu = 2; + 4 = 6; clip = 6
        assertEquals(6.0, e.apply(0, 4), 0);
        assertFalse(Epilogue.of(Act.RELU).then(Act.TANH).hasExtra());
    }

    @Test
    void roundsToF32AfterEveryStep() {
        // 1 + 2^-30 is 1 in f32: a chain of f32 tensors adds the extra to a rounded value, not an exact one
        Epilogue e = Epilogue.of(Epilogue.ADD, Epilogue.MUL);
        assertEquals(1.0, e.apply(1.0, Math.scalb(1.0, -30)) / Math.scalb(1.0, -30), 1e-6);
        // σ(−614) is 0 in f32, so the gate by ∞ gives NaN, as the unfused chain does (∞ in double)
        assertTrue(Double.isNaN(Epilogue.of(Act.SIGMOID).then(Epilogue.MUL).apply(-614, Double.POSITIVE_INFINITY)));
    }

    @Test
    void composesConsecutiveActivationsIntoOneStage() {
        Epilogue e = Epilogue.of(Epilogue.act(Act.leakyRelu(0.1f)), Epilogue.act(Act.SIGMOID), Epilogue.ADD, Epilogue.act(Act.TANH));
        List<Epilogue.Stage> stages = e.stages();
        assertEquals(3, stages.size());
        ScalarExpr f = assertInstanceOf(Epilogue.Apply.class, stages.get(0)).f();
        for (double x : new double[]{-3, -0.5, 0, 0.25, 7})
            assertEquals(Act.SIGMOID.apply(Act.leakyRelu(0.1f).apply(x)), f.eval(x), 1e-12);
        assertEquals(new Epilogue.Join(ScalarExpr.Fn2.ADD), stages.get(1));
        assertEquals(new Epilogue.Apply(Act.TANH.expr()), stages.get(2));
        assertEquals(List.of(), Epilogue.NONE.stages());
    }

    @Test
    void printsAndParsesAsABracketedList() {
        Epilogue e = Epilogue.of(Epilogue.ADD, Epilogue.act(Act.RELU), Epilogue.act(Act.clip(0, 6)), Epilogue.MUL);
        assertEquals("[add, relu, clip(0.0,6.0), mul]", e.toString());
        assertEquals(e, Epilogue.parse(e.toString()));
        assertEquals(Epilogue.NONE, Epilogue.parse("[]"));
        assertEquals(Epilogue.of(Act.of(Unary.Kind.HARD_SIGMOID, 0.2f, 0.5f)), Epilogue.parse("[ hard_sigmoid(0.2, 0.5) ]"));
        assertThrows(IllegalArgumentException.class, () -> Epilogue.parse("[relu,,tanh]"));
        assertThrows(IllegalArgumentException.class, () -> Epilogue.parse("relu"));
    }

    @Test
    void textIrRoundTripsAnEpilogueAndLeavesAnEmptyOneOut() {
        String text = """
                graph @g(%x: f32[1,2,4,4], %r: f32[1,3,4,4], %v: f32[2,3]) {
                  const %w: f32[3,2,1,1]
                  const %b: f32[3]
                  const %fc: f32[5,3]
                  const %fcb: f32[5]
                  %c: f32[1,3,4,4] = conv2d(%x, %w, %b, %r) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1, epilogue=[add, relu, clip(0.0,6.0), mul]}
                  %p: f32[1,3,4,4] = conv2d(%x, %w) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1}
                  %l: f32[2,5] = linear(%v, %fc, %fcb) {epilogue=[sigmoid, tanh]}
                  return %c, %p, %l
                }
                """;
        Graph g = IrParser.parse(text);
        assertEquals(text, IrPrinter.print(g));
        Conv2d c = (Conv2d) g.producer("c").op();
        assertEquals(Epilogue.of(Epilogue.ADD, Epilogue.act(Act.RELU), Epilogue.act(Act.clip(0, 6)), Epilogue.MUL), c.epilogue());
        assertEquals(Epilogue.NONE, ((Conv2d) g.producer("p").op()).epilogue());
        assertEquals(new Linear(Epilogue.of(Act.SIGMOID).then(Act.TANH)), g.producer("l").op());
    }

    @Test
    void anInvalidEpilogueInTextIrIsAnErrorNamingThePlace() {
        String text = """
                graph @g(%v: f32[2,3], %r: f32[2,5]) {
                  const %fc: f32[5,3]
                  const %fcb: f32[5]
                  %l: f32[2,5] = linear(%v, %fc, %fcb, %r) {epilogue=[add, relu, add]}
                  return %l
                }
                """;
        var e = assertThrows(MalformedFileException.class, () -> IrParser.parse(text, "bad.kir"));
        assertTrue(e.getMessage().startsWith("bad.kir:4:") && e.getMessage().contains("by add twice"), e.getMessage());
    }
}
