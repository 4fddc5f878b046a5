package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reshape of an intermediate is an alias of its operand's bytes: no copy step, same results. */
class ReshapeAliasCpuTest {
    @Test void flattenBeforeALinearLayerIsNoStep() {
        OpCase.Builder c = new OpCase.Builder("flatten", 1, 0);
        String x = c.namedInput("x", 1f, 2, 8, 3, 3);
        String a = c.add(Conv2d.of(0, 1), x, c.weight(6, 8, 1, 1), c.weight(6));
        String f = c.add(new Reshape(2, 6 * 3 * 3), a);
        OpCase cs = c.build(c.add(new Linear(Epilogue.of(Act.RELU)), f, c.weight(0.1f, 5, 54), c.weight(5)));
        List<String> steps = check(cs);
        assertTrue(steps.stream().noneMatch(s -> s.endsWith("[CopyKernel]")), steps.toString());
    }

    /** %a's bytes must outlive its own last reader (the reshape) while %f is read after %b is written. */
    @Test void aliasedBytesStayLiveUntilTheAliasIsRead() {
        OpCase.Builder c = new OpCase.Builder("lifetime", 2, 0);
        String x = c.namedInput("x", 1f, 1, 4, 5, 5);
        String a = c.add(Unary.of(Unary.Kind.RELU), x);
        String f = c.add(new Reshape(4, 25), a);
        String b = c.add(Unary.of(Unary.Kind.TANH), x);
        String b2 = c.add(Unary.of(Unary.Kind.SIGMOID), b);
        String g = c.add(new Reshape(100), b2);
        String g2 = c.add(new Reshape(4, 25), g);
        List<String> steps = check(c.build(c.add(new Binary(Binary.Kind.ADD), f, g2)));
        assertEquals(4, steps.size(), "relu, tanh, sigmoid, add: " + steps);
    }

    /** A reshape whose operand is read by a padded conv (haloed) is still a copy, reading the interior. */
    @Test void reshapeOfAHaloedOperandIsACopy() {
        OpCase.Builder c = new OpCase.Builder("halo", 3, 0);
        String x = c.namedInput("x", 1f, 1, 3, 4, 4);
        String a = c.add(Unary.of(Unary.Kind.RELU), x);
        String p = c.add(Conv2d.of(1, 1), a, c.weight(3, 3, 3, 3), c.weight(3));
        String f = c.add(new Reshape(3, 16), a);
        String y = c.add(Unary.of(Unary.Kind.TANH), f);
        OpCase cs = c.build(p, y);
        List<String> steps = check(cs);
        assertTrue(steps.stream().anyMatch(s -> s.endsWith("[CopyKernel]")), steps.toString());
    }

    private static List<String> check(OpCase cs) {
        Map<String, HostTensor> in = cs.draw(7);
        Map<String, HostTensor> want = ReferenceInterpreter.run(cs.graph(), in);
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i < 2; i++) {
                Map<String, HostTensor> got = exe.run(in);
                for (String o : cs.graph().outputs())
                    assertTrue(got.get(o).relativeL2Error(want.get(o)) < 1e-5, cs.graph().name() + " %" + o + ": " + got.get(o).relativeL2Error(want.get(o)));
            }
            return ((CpuExecutable) exe).steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name()).toList();
        }
    }
}
