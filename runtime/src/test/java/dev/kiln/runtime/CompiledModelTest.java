package dev.kiln.runtime;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tracer;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompiledModelTest {
    private static HostTensor reference(Module m, Shape s, HostTensor x) {
        return ReferenceInterpreter.run(Tracer.trace(m, "x", s), x);
    }

    @Test
    void runsDslModelLikeTheReferenceInterpreter() {
        Module model = TestModels.dwsep();
        HostTensor x = TestModels.input(TestModels.SMALL, 1);
        try (CompiledModel m = Kiln.compile(model, Target.cpu(), TestModels.SMALL)) {
            HostTensor y = m.run(x);
            assertTrue(y.relativeL2Error(reference(model, TestModels.SMALL, x)) < 1e-5);
            assertEquals(List.of("x"), m.signature().inputNames());
            assertEquals(1, m.compilations());
        }
    }

    @Test
    void newInputShapeCompilesASpecialisationOnFirstUseAndCachesIt() {
        Module model = TestModels.dwsep();
        Shape other = Shape.of(2, 4, 5, 7);
        try (CompiledModel m = Kiln.compile(model, Target.cpu(), TestModels.SMALL)) {
            HostTensor x = TestModels.input(other, 2);
            HostTensor y = m.run(Map.of("x", x)).values().iterator().next();
            assertEquals(2, m.compilations());
            assertEquals(Shape.of(2, 8, 5, 7), y.shape());
            assertTrue(y.relativeL2Error(reference(model, other, x)) < 1e-5);
            m.run(x);
            m.run(TestModels.input(TestModels.SMALL, 3));
            assertEquals(2, m.compilations(), "both shapes are cached");
            assertEquals(2, m.cachedShapes().size());
            assertEquals(List.of("x"), m.signature().inputNames());
            assertEquals(TestModels.SMALL, m.signature().inputs().getFirst().type().shape(), "the primary stays the first shape");
        }
    }

    @Test
    void concurrentFirstCallsWithTheSameShapesCompileOnce() throws Exception {
        TestModels.CountingBackend backend = new TestModels.CountingBackend(150);
        Shape shape = Shape.of(1, 4, 6, 6);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.of(backend));
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            CyclicBarrier start = new CyclicBarrier(8);
            List<Future<HostTensor>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++)
                results.add(pool.submit(() -> { start.await(); return m.run(TestModels.input(shape, 5)); }));
            for (Future<HostTensor> f : results) assertEquals(results.getFirst().get(), f.get());
            assertEquals(1, backend.compiles.get());
            assertEquals(1, m.compilations());
        }
    }

    @Test
    void eightThreadsAtOnceGiveResultsIdenticalToSingleThreadedCalls() throws Exception {
        Shape[] shapes = {TestModels.SMALL, Shape.of(1, 4, 12, 12)};
        List<HostTensor> inputs = new ArrayList<>();
        for (int i = 0; i < 16; i++) inputs.add(TestModels.input(shapes[i % 2], 100 + i));
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu().withOption("threads", "2"), shapes)) {
            List<HostTensor> expected = inputs.stream().map(m::run).toList();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                CyclicBarrier start = new CyclicBarrier(8);
                List<Future<List<HostTensor>>> perThread = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int offset = t;
                    perThread.add(pool.submit(() -> {
                        start.await();
                        List<HostTensor> out = new ArrayList<>();
                        for (int round = 0; round < 5; round++)
                            for (int i = 0; i < inputs.size(); i++) out.add(m.run(inputs.get((i + offset) % inputs.size())));
                        return out;
                    }));
                }
                for (int t = 0; t < 8; t++) {
                    List<HostTensor> got = perThread.get(t).get();
                    for (int k = 0; k < got.size(); k++)
                        assertEquals(expected.get((k % inputs.size() + t) % inputs.size()), got.get(k), "thread " + t + " call " + k);
                }
            }
            assertEquals(2, m.compilations());
        }
    }

    @Test
    void cacheIsBoundedAndReleasesEvictedExecutables() {
        TestModels.CountingBackend backend = new TestModels.CountingBackend(0);
        CompileOptions two = CompileOptions.defaults().withCacheCapacity(2);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.of(backend), two, TestModels.SMALL)) {
            m.run(TestModels.input(Shape.of(1, 4, 5, 5), 1));
            m.run(TestModels.input(Shape.of(1, 4, 6, 6), 1));
            assertEquals(2, m.cachedShapes().size());
            assertTrue(m.cachedShapes().contains(List.of(TestModels.SMALL)), "the primary is never evicted");
            assertEquals(1, backend.closes.get(), "the evicted specialisation was closed");
            m.run(TestModels.input(Shape.of(1, 4, 5, 5), 1));
            assertEquals(4, m.compilations(), "an evicted shape compiles again");
        }
        assertEquals(4, backend.closes.get(), "closing the model releases the rest");
    }

    @Test
    void failedCompilationIsNotCached() {
        TestModels.CountingBackend backend = new TestModels.CountingBackend(0);
        backend.failNext = true;
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.of(backend))) {
            KilnException e = assertThrows(KilnException.class, () -> m.run(TestModels.input(TestModels.SMALL, 1)));
            assertTrue(e.getMessage().contains("injected"));
            m.run(TestModels.input(TestModels.SMALL, 1));
            assertEquals(2, m.compilations());
        }
    }

    @Test
    void fixedShapeGraphRefusesOtherShapesNamingExpectedAndActual() {
        Graph g = Tracer.trace(TestModels.dwsep(), "x", TestModels.SMALL);
        try (CompiledModel m = Kiln.compile(g, Target.cpu())) {
            ShapeException e = assertThrows(ShapeException.class, () -> m.run(TestModels.input(Shape.of(1, 4, 9, 9), 1)));
            assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("[1,4,9,9]") && e.getMessage().contains("f32[1,4,8,8]"),
                    e.getMessage());
            assertEquals(1, m.compilations());
        }
    }

    @Test
    void missingAndUnknownInputsAreNamed() {
        Graph g = Tracer.trace(TestModels.dwsep(), "x", TestModels.SMALL);
        try (CompiledModel m = Kiln.compile(g, Target.cpu())) {
            KilnException missing = assertThrows(KilnException.class, () -> m.run(Map.of()));
            assertTrue(missing.getMessage().contains("missing input 'x' (expected f32[1,4,8,8])"), missing.getMessage());
            Map<String, HostTensor> extra = Map.of("x", TestModels.input(TestModels.SMALL, 1), "y", TestModels.input(TestModels.SMALL, 1));
            KilnException unknown = assertThrows(KilnException.class, () -> m.run(extra));
            assertTrue(unknown.getMessage().contains("unknown input 'y'"), unknown.getMessage());
        }
    }

    @Test
    void exposesFusionReportMemoryPlanAndOptimisedIr() {
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            assertTrue(m.fusionReport().orElseThrow().count("fuse-depthwise-pointwise") == 1, m.fusionReportText());
            assertTrue(m.ir().contains("= fused_dw_pw_conv("), m.ir());
            assertTrue(m.memoryPlan().conflicts().isEmpty());
            assertEquals(m.optimisedGraph().nodes().size(), m.primary().graph().nodes().size());
        }
    }

    @Test
    void closedModelRefusesCalls() {
        CompiledModel m = Kiln.compile(TestModels.residualRelu(), Target.cpu(), TestModels.SMALL);
        m.close();
        KilnException e = assertThrows(KilnException.class, () -> m.run(TestModels.input(TestModels.SMALL, 1)));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void unknownBackendIsNamedWithTheKnownOnes() {
        KilnException e = assertThrows(KilnException.class, () -> Kiln.compile(TestModels.dwsep(), Target.named("tpu"), TestModels.SMALL));
        assertTrue(e.getMessage().contains("unknown backend 'tpu'") && e.getMessage().contains("cpu"), e.getMessage());
    }
}
