package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.TinyKernel;
import dev.kiln.ir.op.Act;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A specialisation asked for twice in one JVM is defined once, so its second user starts from code C2 has compiled. */
class KernelCacheTest {
    @Test
    void theSameTemplateAndConstantsGiveTheSameKernel() {
        Specialiser.Specialised a = Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny());
        Specialiser.Specialised b = Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny());
        assertSame(a.kernel(), b.kernel());
        assertArrayEquals(a.bytes(), b.bytes());
    }

    @Test
    void anyOtherConstantOrActivationGivesAnotherKernel() {
        Specialiser.Specialised a = Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny());
        assertNotSame(a.kernel().getClass(), Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny().put("SCALE", 2.25f)).kernel().getClass());
        assertNotSame(a.kernel().getClass(), Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny().put("ACT", Act.RELU)).kernel().getClass());
        assertNotSame(a.kernel().getClass(), Specialiser.specialise(TinyKernel.class, SpecialiserTest.tiny().put("SCALE", -0.0f)).kernel().getClass(),
                "-0.0 is another constant than 0.0 and 2.5");
    }
}
