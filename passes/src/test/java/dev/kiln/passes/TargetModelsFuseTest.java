package dev.kiln.passes;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.kiln.passes.CheckedRewrite.count;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The default pipeline on every built-in model at its demo size: what each fuses into, the
 * same output as before, and the arena the memory plan needs (printed).
 */
class TargetModelsFuseTest {
    record Compiled(Graph before, PassManager.Result result) {
        Graph after() { return result.graph(); }
        List<Node> nodes(Class<?> op) { return after().nodes().stream().filter(n -> op.isInstance(n.op())).toList(); }
        String describe() { return result.report() + "\n" + after(); }
    }

    private static final Map<String, Compiled> COMPILED = new ConcurrentHashMap<>();

    static Compiled compile(String name) {
        return COMPILED.computeIfAbsent(name, n -> {
            Examples.Example e = Examples.byName(n);
            Graph g = Tracer.trace(e.model().get(), "x", e.inputShape());
            return new Compiled(g, PassManager.defaults().run(g));
        });
    }

    static List<String> models() { return Examples.all().stream().map(Examples.Example::name).toList(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void computesWhatTheTracedModelComputes(String name) {
        Compiled c = compile(name);
        Equivalence.assertEquivalent(c.before(), c.after(), 42);
        var plan = c.result().memoryPlan();
        assertTrue(plan.conflicts().isEmpty(), plan::toString);
        System.out.printf("%-22s %3d nodes → %2d, %2d fusions, arena %s for intermediates totalling %s%n", name,
                c.before().nodes().size(), c.after().nodes().size(), c.result().report().fused().size(),
                dev.kiln.ir.MemoryPlan.bytes(plan.peakBytes()), dev.kiln.ir.MemoryPlan.bytes(plan.totalBytes()));
    }

    @Test
    void depthwiseSeparableConvBecomesOneFusedOp() {
        Compiled c = compile("dwsep");
        assertEquals(1, c.result().report().count("fuse-depthwise-pointwise"), c::describe);
        assertEquals(1, c.after().nodes().size(), c::describe);
        assertInstanceOf(FusedDwPwConv.class, c.after().nodes().getFirst().op());
    }

    @Test
    void mobileNetFoldsEveryBatchNormAndFusesEachBlock() {
        Compiled c = compile("mobilenet");
        assertEquals(0, count(c.after(), BatchNorm2d.class), c::describe);
        assertEquals(6, c.result().report().count("fold-batch-norm"), c::describe);
        assertEquals(3, c.result().report().count("fuse-depthwise-pointwise"), c::describe);
        List<Node> fused = c.nodes(FusedDwPwConv.class);
        assertEquals(3, fused.size(), c::describe);
        for (Node n : fused) {
            var op = (FusedDwPwConv) n.op();
            assertEquals(Act.RELU, op.midAct(), "BN → ReLU between the convs: " + n);
            assertEquals(Epilogue.of(Act.RELU), op.epilogue(), "BN → ReLU after the pointwise conv: " + n);
        }
        assertEquals(3, c.after().nodes().size(), "nothing but the three blocks is left: " + c.after());
    }

    @Test
    void saganAttentionBecomesOneFusedAttention() {
        Compiled c = compile("attention");
        assertEquals(0, count(c.after(), Softmax.class), c::describe);
        FusedAttention op = onlyAttention(c);
        assertTrue(op.qChannelMajor() && op.kChannelMajor() && op.vChannelMajor() && op.outChannelMajor(), op::toString);
        assertEquals(Epilogue.NONE, op.epilogue());
    }

    @Test
    void adaptiveAttentionFoldsTheGateIntoTheFusedAttention() {
        Compiled c = compile("adaptive-attention");
        FusedAttention op = onlyAttention(c);
        assertEquals(Epilogue.of(Epilogue.MUL), op.epilogue(), "x · attention(x) is the attention's epilogue: " + c.describe());
        assertEquals(0, count(c.after(), Binary.class), "no separate multiply is left: " + c.after());
    }

    @Test
    void sequenceAttentionsBecomeFusedAttention() {
        for (String name : List.of("seq-attention", "seq-attention-general")) {
            Compiled c = compile(name);
            FusedAttention op = onlyAttention(c);
            assertEquals(0, count(c.after(), MatMul.class), c::describe);
            assertEquals((float) (1 / Math.sqrt(64)), op.scale(), 1e-7f, "the 1/√d scale is folded in");
            assertFalse(op.qChannelMajor() || op.vChannelMajor() || op.outChannelMajor(), op::toString);
        }
    }

    @Test
    void generatorFoldsReluAndTanhIntoItsConvs() {
        Compiled c = compile("generator");
        assertEquals(0, count(c.after(), Unary.class), c::describe);
        List<Epilogue> epilogues = c.nodes(Conv2d.class).stream().map(n -> ((Conv2d) n.op()).epilogue()).toList();
        assertEquals(List.of(Epilogue.of(Act.RELU), Epilogue.of(Act.RELU), Epilogue.of(Act.RELU), Epilogue.of(Act.TANH)), epilogues, c::describe);
    }

    @Test
    void smallCnnFoldsItsRelusAndPoolsIntoConvsAndLinear() {
        Compiled c = compile("cnn");
        assertEquals(0, count(c.after(), Unary.class), c::describe);
        assertEquals(0, count(c.after(), dev.kiln.ir.op.MaxPool2d.class), c::describe);
        Epilogue reluPool = Epilogue.parse("[relu, max_pool(k=2x2,s=2x2,p=0x0x0x0)]");
        assertEquals(List.of(reluPool, reluPool),
                c.nodes(Conv2d.class).stream().map(n -> ((Conv2d) n.op()).epilogue()).toList(), c::describe);
        assertEquals(List.of(Epilogue.of(Act.RELU), Epilogue.NONE),
                c.nodes(Linear.class).stream().map(n -> ((Linear) n.op()).epilogue()).toList(), "fc1 with its ReLU; fc2 has none: " + c.describe());
    }

    private static FusedAttention onlyAttention(Compiled c) {
        List<Node> fused = c.nodes(FusedAttention.class);
        assertEquals(1, fused.size(), c::describe);
        return (FusedAttention) fused.getFirst().op();
    }
}
