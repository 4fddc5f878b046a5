package dev.kiln.runtime;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model that interprets its first calls: interpreted answers are the reference's, the switch to the kernels keeps them within tolerance, failures are loud. */
class TieredExecutableTest {
    private static final CompileOptions TIERED = CompileOptions.defaults().interpretingFirstCalls(true);

    @Test
    void callsBeforeAndAfterTheSwitchMatchTheReference() {
        HostTensor x = TestModels.input(TestModels.SMALL, 1);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TIERED, TestModels.SMALL)) {
            float[] want = ReferenceInterpreter.run(m.optimisedGraph(), x).data();
            float[] first = m.run(x).data();
            if (!m.runsKernels()) assertArrayEquals(want, first, "an interpreted call is the reference's answer");
            WarmUp.Report r = m.warmUp(Duration.ofSeconds(60));
            assertTrue(m.runsKernels(), "after warmUp() returns the kernels answer: " + r);
            float[] later = m.run(x).data();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], later[i], 1e-4 * (1 + Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void aLoadedArtifactInterpretsUntilItsKernelsAreWarm(@org.junit.jupiter.api.io.TempDir Path dir) {
        Path file = dir.resolve("m.kiln");
        HostTensor x = TestModels.input(TestModels.SMALL, 2);
        float[] want;
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            m.save(file);
            want = m.run(x).data();
        }
        try (CompiledModel m = Kiln.load(Artifact.read(file), TIERED)) {
            float[] got = m.run(x).data();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "element " + i);
        }
        assertTrue(Files.exists(file));
    }

    @Test
    void aBackendFailureInTheBackgroundFailsTheNextCallsNamingIt() {
        // an option the cpu backend does not know fails its code generation, here in the background
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu().withOption("no-such-option", "1"), TIERED, TestModels.SMALL)) {
            KilnException e = assertThrows(KilnException.class, () -> m.warmUp(Duration.ofSeconds(60)));
            assertTrue(e.getMessage().contains("no-such-option"), e.getMessage());
            KilnException again = assertThrows(KilnException.class, () -> m.run(TestModels.input(TestModels.SMALL, 3)));
            assertTrue(again.getMessage().contains("in the background"), again.getMessage());
        }
    }

    @Test
    void closingWhileTheKernelsAreGeneratedReturnsAtOnceAndFailsLaterCalls() {
        CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TIERED, TestModels.SMALL);
        m.close();
        assertThrows(KilnException.class, () -> m.run(TestModels.input(TestModels.SMALL, 4)));
    }

    @Test
    void anOutputThatIsAnInputIsACopy() {
        GraphBuilder b = new GraphBuilder("pass");
        String x = b.input("x", TensorType.f32(2, 3));
        b.output(x);
        b.output(b.add("y", Unary.of(Unary.Kind.ABS), List.of(x), "abs"));
        Graph g = b.build();
        try (CompiledModel m = Kiln.compile(g, Target.cpu(), TIERED)) {
            HostTensor in = HostTensor.normal(dev.kiln.ir.Shape.of(2, 3), 5);
            Map<String, HostTensor> out = m.run(Map.of("x", in));
            assertNotSame(in, out.get("x"));
            assertArrayEquals(in.data(), out.get("x").data());
        }
    }
}
