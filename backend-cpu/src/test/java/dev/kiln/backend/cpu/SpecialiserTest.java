package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.FinalParameterKernel;
import dev.kiln.backend.cpu.kernels.LongParameterKernel;
import dev.kiln.backend.cpu.kernels.TinyKernel;
import dev.kiln.backend.cpu.kernels.WritesParameterKernel;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The specialiser on {@link TinyKernel}: what its bytecode becomes, and the values it refuses. */
class SpecialiserTest {
    /** Whole vectors and a tail at any vector width up to 64 lanes. */
    static final int N = 67, X_OFF = 3;

    /** Every parameter TinyKernel reads, with MODE 1 and no activation. */
    static Params tiny() {
        return Params.of().put("X_SLOT", 0).put("X_OFF", X_OFF).put("Y_SLOT", 1).put("N", N).put("MODE", 1)
                .put("SCALE", 2.5f).put("ACT", Act.NONE);
    }

    @Test
    void everyParameterReadBecomesItsValueAndTheFieldsAreGone() {
        Specialiser.Specialised s = Specialiser.specialise(TinyKernel.class, tiny());
        ClassNode cls = classOf(s);
        assertTrue(cls.fields.stream().noneMatch(f -> f.name.startsWith("P_")), "parameter fields left");
        assertTrue(code(cls).noneMatch(i -> i instanceof FieldInsnNode f && f.name.startsWith("P_")), "parameter reads left");
        MethodNode run = method(cls, "run");
        assertTrue(code(run).anyMatch(i -> i instanceof IntInsnNode n && n.operand == N), "N = " + N + " as an operand");
        assertTrue(code(run).anyMatch(i -> i instanceof LdcInsnNode l && Float.valueOf(2.5f).equals(l.cst)), "SCALE = 2.5 as an ldc");
        float[] y = run(s);
        for (int i = 0; i < N; i++) assertEquals(x(i) * 2.5f + TinyKernel.SHIFT_IF_MODE_1, y[i], "y[" + i + "]");
    }

    @Test
    void aBranchOnAParameterKeepsOnlyTheSideTaken() {
        for (int mode : new int[]{1, 0}) {
            MethodNode shift = method(classOf(Specialiser.specialise(TinyKernel.class, tiny().put("MODE", mode))), "shift");
            float kept = mode == 1 ? TinyKernel.SHIFT_IF_MODE_1 : TinyKernel.SHIFT_OTHERWISE;
            float dropped = mode == 1 ? TinyKernel.SHIFT_OTHERWISE : TinyKernel.SHIFT_IF_MODE_1;
            assertTrue(code(shift).anyMatch(i -> i instanceof LdcInsnNode l && Float.valueOf(kept).equals(l.cst)), "mode " + mode + " keeps " + kept);
            assertTrue(code(shift).noneMatch(i -> i instanceof LdcInsnNode l && Float.valueOf(dropped).equals(l.cst)), "mode " + mode + " drops " + dropped);
            assertTrue(code(shift).noneMatch(i -> i instanceof JumpInsnNode), "mode " + mode + ": no jump left in shift()");
        }
    }

    @Test
    void aBooleanGivenForAnIntParameterIsOneOrZero() {
        float[] y = run(Specialiser.specialise(TinyKernel.class, tiny().put("MODE", false)));
        assertEquals(x(0) * 2.5f + TinyKernel.SHIFT_OTHERWISE, y[0]);
    }

    @Test
    void anActivationIsWrittenInlineWhereTheTemplateAppliesItsSlot() {
        Specialiser.Specialised s = Specialiser.specialise(TinyKernel.class, tiny().put("MODE", 0).put("SCALE", 3000f).put("ACT", Act.RELU));
        assertTrue(code(classOf(s)).noneMatch(SpecialiserTest::callsVecMath), "a VecMath call is left");
        float[] y = run(s);
        int negative = 0;
        for (int i = 0; i < N; i++) {
            float v = x(i) * 3000f + TinyKernel.SHIFT_OTHERWISE;
            if (v < 0) negative++;
            assertEquals(Math.max(v, 0f), y[i], "relu at " + i);
        }
        assertTrue(negative > 0 && negative < N, "relu saw both signs");
    }

    @Test
    void slotZeroLeavesTheValueAsItIs() {
        Specialiser.Specialised s = Specialiser.specialise(TinyKernel.class, tiny());
        assertTrue(code(classOf(s)).noneMatch(SpecialiserTest::callsVecMath), "a VecMath call is left");
        float[] y = run(s), want = new float[N];
        for (int i = 0; i < N; i++) want[i] = x(i) * 2.5f + TinyKernel.SHIFT_IF_MODE_1;
        assertArrayEquals(want, y, 0f);
    }

    @Test
    void aMissingParameterIsNamed() {
        Params p = Params.of().put("X_SLOT", 0).put("X_OFF", 0).put("Y_SLOT", 1).put("MODE", 1).put("SCALE", 1f).put("ACT", Act.NONE);
        var e = assertThrows(IllegalArgumentException.class, () -> Specialiser.specialise(TinyKernel.class, p));
        assertTrue(e.getMessage().startsWith("template TinyKernel: no value for parameter(s) P_N"), e.getMessage());
    }

    @Test
    void anUnknownParameterIsNamedWithTheTemplatesOwn() {
        var e = assertThrows(IllegalArgumentException.class, () -> Specialiser.specialise(TinyKernel.class, tiny().put("SCALLE", 1f)));
        assertTrue(e.getMessage().startsWith("template TinyKernel: unknown parameter(s) P_SCALLE (its parameters: P_ACT, P_MODE, P_N,"),
                e.getMessage());
    }

    @Test
    void placementComponentsTheTemplateDoesNotReadAreAllowed() {
        Placement x = Placement.contiguous(0, X_OFF, TensorType.f32(1, 1, 1, N));
        Params p = Params.of().placement("X", x).put("Y_SLOT", 1).put("N", N).put("MODE", 1).put("SCALE", 2.5f).put("ACT", Act.NONE);
        assertEquals(x(N - 1) * 2.5f + TinyKernel.SHIFT_IF_MODE_1, run(Specialiser.specialise(TinyKernel.class, p))[N - 1]);
    }

    @Test
    void aPlacementTheTemplateDoesNotTakeIsUnknown() {
        Placement z = Placement.contiguous(2, 0, TensorType.f32(4));
        var e = assertThrows(IllegalArgumentException.class, () -> Specialiser.specialise(TinyKernel.class, tiny().placement("Z", z)));
        assertTrue(e.getMessage().contains("unknown parameter(s) P_Z_D0, P_Z_D1, P_Z_D2, P_Z_D3, P_Z_OFF, P_Z_S0,"), e.getMessage());
    }

    @Test
    void aKeyPutAfterAPlacementMustBeAParameter() {
        Placement x = Placement.contiguous(0, X_OFF, TensorType.f32(N));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Specialiser.specialise(TinyKernel.class, tiny().placement("X", x).put("X_S3", 1)));
        assertTrue(e.getMessage().contains("unknown parameter(s) P_X_S3 "), e.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeIsNamedWithBothTypes() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Specialiser.specialise(TinyKernel.class, tiny().put("SCALE", 2).put("N", 67f).put("MODE", Act.RELU).put("ACT", true)));
        String m = e.getMessage();
        assertTrue(m.contains("parameter P_SCALE is a float (Float or Double), given Integer 2"), m);
        assertTrue(m.contains("parameter P_N is an int (Integer, Boolean, Act or Epilogue), given Float 67.0"), m);
        assertFalse(m.contains("P_MODE") || m.contains("P_ACT"), "an Act and a Boolean fit an int: " + m);
    }

    @Test
    void anActForAFloatParameterIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Specialiser.specialise(TinyKernel.class, tiny().put("SCALE", Act.RELU)));
        assertTrue(e.getMessage().contains("parameter P_SCALE is a float (Float or Double), given Act relu"), e.getMessage());
    }

    @Test
    void aTemplateThatWritesAParameterIsRefused() {
        var e = assertThrows(IllegalStateException.class, () -> Specialiser.specialise(WritesParameterKernel.class, Params.of().put("N", 1)));
        assertTrue(e.getMessage().startsWith("WritesParameterKernel writes parameter P_N in run"), e.getMessage());
    }

    @Test
    void aParameterThatIsNeitherIntNorFloatIsRefused() {
        var e = assertThrows(IllegalStateException.class, () -> Specialiser.specialise(LongParameterKernel.class, Params.of().put("N", 1)));
        assertEquals("LongParameterKernel declares parameter P_N of type long; parameters are int or float", e.getMessage());
    }

    @Test
    void aFinalParameterIsRefused() {
        var e = assertThrows(IllegalStateException.class, () -> Specialiser.specialise(FinalParameterKernel.class, Params.of().put("N", 1)));
        assertTrue(e.getMessage().startsWith("FinalParameterKernel declares parameter P_N final"), e.getMessage());
    }

    static float x(int i) { return i - N / 2f; }

    /** Runs the kernel on x (at X_OFF in slot 0) into a fresh y (slot 1). */
    static float[] run(Specialiser.Specialised s) {
        float[] x = new float[X_OFF + N], y = new float[N];
        for (int i = 0; i < N; i++) x[X_OFF + i] = x(i);
        s.kernel().run(new float[][]{x, y}, 0, 1);
        return y;
    }

    static boolean callsVecMath(AbstractInsnNode i) {
        return i instanceof MethodInsnNode m && m.owner.endsWith("/VecMath");
    }

    static ClassNode classOf(Specialiser.Specialised s) {
        ClassNode cls = new ClassNode();
        new ClassReader(s.bytes()).accept(cls, 0);
        return cls;
    }

    static MethodNode method(ClassNode cls, String name) {
        return cls.methods.stream().filter(m -> m.name.equals(name)).findFirst().orElseThrow();
    }

    static Stream<AbstractInsnNode> code(MethodNode m) { return StreamSupport.stream(m.instructions.spliterator(), false); }

    static Stream<AbstractInsnNode> code(ClassNode cls) { return cls.methods.stream().flatMap(SpecialiserTest::code); }
}
