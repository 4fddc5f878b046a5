package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The executable's contract: thread safety, closing, input checks, code dumps, options. */
class CpuExecutableTest {
    /**
     * x[2,3,9,19] → padded conv → ReLU → padded depthwise conv → max pool → reshape → fused linear:
     * haloed buffers, GEMM, several kernels. Only FMAs, adds, compares and copies, whose results
     * do not depend on whether C2 has compiled a kernel yet: exp, tanh and lane reductions may
     * round differently in the Vector API's Java fallback and in C2's intrinsics (seen: a GELU →
     * global-pool → tanh graph changed in the 7th digit after ~1500 calls), which would make
     * "identical" a statement about JIT timing rather than about concurrency.
     */
    static Graph graph() {
        OpCase.Builder c = new OpCase.Builder("exe", 5, 0);
        String x = c.namedInput("x", 1f, 2, 3, 9, 19);
        String a = c.add(Conv2d.of(1, 1), x, c.weight(8, 3, 3, 3), c.weight(8));
        String b = c.add(Unary.of(Unary.Kind.RELU), a);
        String d = c.add(Conv2d.of(2, 8), b, c.weight(8, 1, 5, 5), c.weight(8));
        String p = c.add(MaxPool2d.of(3, 3), d);
        String f = c.add(new Reshape(new int[]{2, 8 * 3 * 6}), p);
        return c.build(c.add(new Linear(Epilogue.of(Act.RELU)), f, c.weight(0.1f, 37, 8 * 3 * 6), c.weight(37))).graph();
    }

    static HostTensor input(long seed) { return HostTensor.normal(Shape.of(2, 3, 9, 19), seed); }

    @Test void concurrentCallsGiveTheSameResultsAsSingleThreadedCalls() throws Exception {
        Graph g = graph();
        int callers = 8, calls = 20;
        List<float[]> expected = new ArrayList<>();
        try (Executable single = new CpuBackend().compile(g, Map.of("threads", "1"))) {
            for (int i = 0; i < calls; i++) expected.add(output(single.run(Map.of("x", input(i)))).data());
        }
        try (Executable exe = new CpuBackend().compile(g, Map.of("threads", "2"))) {
            CyclicBarrier start = new CyclicBarrier(callers);
            try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
                List<Future<List<float[]>>> results = new ArrayList<>();
                for (int t = 0; t < callers; t++) {
                    int offset = t;
                    results.add(pool.submit(() -> {
                        start.await();
                        List<float[]> out = new ArrayList<>(java.util.Collections.nCopies(calls, (float[]) null));
                        for (int k = 0; k < calls; k++) {
                            int i = (k + offset) % calls;  // callers run different inputs at the same moment
                            out.set(i, output(exe.run(Map.of("x", input(i)))).data());
                        }
                        return out;
                    }));
                }
                for (Future<List<float[]>> f : results) {
                    List<float[]> got = f.get();
                    for (int i = 0; i < calls; i++) assertArrayEquals(expected.get(i), got.get(i), "call on input " + i);
                }
            }
        }
    }

    /**
     * The property tests run each kernel a few times, i.e. interpreted; this runs one graph of
     * the vector-heavy kernels (fused depthwise+pointwise, softmax, both LSTM kernels, a bidirectional GRU, GEMM) long
     * enough for C2 to compile them with the Vector API intrinsics, checking it all along.
     */
    @Test void resultsStayCorrectOnceC2HasCompiledTheKernels() {
        OpCase.Builder c = new OpCase.Builder("c2", 9, 0);
        String x = c.namedInput("x", 1f, 2, 4, 6, 35);
        FusedDwPwConv f = new FusedDwPwConv(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1},
                Act.RELU, Epilogue.of(Act.GELU));
        String a = c.add(f, x, c.weight(4, 1, 3, 3), c.weight(4), c.weight(6, 4, 1, 1), c.weight(6));
        String b = c.add(new Reshape(new int[]{6, 2, 54}), c.add(new Softmax(3), a));
        List<String> lstm = new ArrayList<>(List.of(b));
        for (int l = 0; l < 2; l++)
            lstm.addAll(List.of(c.weight(0.3f, 76, l == 0 ? 54 : 19), c.weight(0.3f, 76, 19), c.weight(76), c.weight(76)));
        String h = c.add(new Lstm(19, 2, false, false), lstm);
        List<String> gru = new ArrayList<>(List.of(h));
        for (int d = 0; d < 2; d++) gru.addAll(List.of(c.weight(0.3f, 57, 19), c.weight(0.3f, 57, 19), c.weight(57), c.weight(57)));
        String g = c.add(new Gru(19, 1, false, false, true), gru);
        OpCase cs = c.build(c.add(new Linear(), g, c.weight(33, 38), c.weight(33)));
        Map<String, HostTensor> in = cs.draw(3);
        HostTensor want = ReferenceInterpreter.run(cs.graph(), in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(cs.graph(), Map.of("threads", "2"))) {
            for (int i = 0; i <= 3000; i++) {
                HostTensor got = output(exe.run(in));
                if (i % 500 == 0) assertTrue(got.relativeL2Error(want) < 1e-5, "call " + i + ": " + got.relativeL2Error(want));
            }
        }
    }

    @Test void runAfterCloseIsAnError() {
        Executable exe = new CpuBackend().compile(graph(), Map.of("threads", "1"));
        exe.run(Map.of("x", input(1)));
        exe.close();
        KilnException e = assertThrows(KilnException.class, () -> exe.run(Map.of("x", input(1))));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    /**
     * close() on one thread while another keeps calling: each call either finishes with the right
     * result or fails saying the executable is closed, close() returns, and nothing hangs. A
     * fresh executable per round, so the kernels run interpreted at first (slow chunks, workers
     * that park between them) as well as compiled.
     */
    @Test void closeWhileAnotherThreadRunsEndsCleanly() {
        Graph g = graph();
        float[] want;
        try (Executable single = new CpuBackend().compile(g, Map.of("threads", "1"))) {
            want = output(single.run(Map.of("x", input(1)))).data();
        }
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            SplittableRandom random = new SplittableRandom(11);
            for (int round = 0; round < 150; round++) {
                Executable exe = new CpuBackend().compile(g, Map.of("threads", "2"));
                CountDownLatch started = new CountDownLatch(1);
                CompletableFuture<Integer> calls = new CompletableFuture<>();
                Thread caller = new Thread(() -> {
                    int done = 0;
                    try {
                        while (true) {
                            started.countDown();
                            assertArrayEquals(want, output(exe.run(Map.of("x", input(1)))).data(), "call " + done);
                            done++;
                        }
                    } catch (KilnException e) {
                        if (e.getMessage().contains("closed")) calls.complete(done);
                        else calls.completeExceptionally(e);
                    } catch (Throwable t) {
                        calls.completeExceptionally(t);
                    }
                }, "caller-" + round);
                caller.setDaemon(true);      // a hung caller must not keep the test JVM alive
                caller.start();
                started.await();
                LockSupport.parkNanos(random.nextLong(3_000_000));
                exe.close();
                calls.join();
            }
        });
    }

    @Test void wrongInputShapeNamesTheInputAndBothShapes() {
        try (Executable exe = new CpuBackend().compile(graph(), Map.of("threads", "1"))) {
            KilnException e = assertThrows(KilnException.class, () -> exe.run(Map.of("x", HostTensor.zeros(2, 3, 9, 18))));
            assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("[2,3,9,18]") && e.getMessage().contains("[2,3,9,19]"),
                    e.getMessage());
        }
    }

    @Test void missingOrUnknownInputIsNamed() {
        try (Executable exe = new CpuBackend().compile(graph(), Map.of("threads", "1"))) {
            KilnException missing = assertThrows(KilnException.class, () -> exe.run(Map.of()));
            assertTrue(missing.getMessage().contains("missing input 'x'"), missing.getMessage());
            KilnException unknown = assertThrows(KilnException.class, () -> exe.run(Map.of("x", input(1), "y", input(2))));
            assertTrue(unknown.getMessage().contains("'y'"), unknown.getMessage());
        }
    }

    @Test void dumpCodeWritesOneTextFilePerKernelWithItsNodeAndBytecode(@TempDir Path dir) throws Exception {
        Graph g = graph();
        Path out = dir.resolve("code");
        try (Executable exe = new CpuBackend().compile(g, Map.of("threads", "1", "dump-code", out.toString()))) {
            List<Step.KernelStep> kernels = ((CpuExecutable) exe).steps().stream()
                    .filter(s -> s instanceof Step.KernelStep).map(s -> (Step.KernelStep) s).toList();
            List<Path> files;
            try (Stream<Path> s = Files.list(out)) { files = s.sorted().toList(); }
            assertEquals(kernels.size(), files.size(), "files: " + files);
            // the flatten before the linear layer is an alias of the pool's result: it has no kernel
            var plan = exe.memoryPlan().orElseThrow();
            List<dev.kiln.ir.Node> lowered = g.nodes().stream().filter(n -> !plan.isAlias(n.name())).toList();
            assertEquals(g.nodes().size() - 1, lowered.size(), plan::toString);
            assertTrue(kernels.size() >= lowered.size(), "at least one kernel per node that is not an alias");
            for (int i = 0; i < files.size(); i++) {
                String text = Files.readString(files.get(i));
                assertTrue(files.get(i).getFileName().toString().endsWith(".txt"), files.get(i).toString());
                assertTrue(text.startsWith("// " + kernels.get(i).name()), text.lines().findFirst().orElse(""));
                assertTrue(text.contains("// class version"), "Textifier output expected in " + files.get(i));
                assertTrue(text.contains("run([[FII)V"), "the kernel's run method in " + files.get(i));
            }
            for (var n : lowered)
                assertTrue(files.stream().anyMatch(f -> read(f).contains("%" + n.name())), "no dump names node %" + n.name());
        }
    }

    @Test void invalidThreadsOptionIsAClearError() {
        for (String bad : new String[]{"0", "-2", "two", "1.5"}) {
            KilnException e = assertThrows(KilnException.class, () -> new CpuBackend().compile(graph(), Map.of("threads", bad)));
            assertTrue(e.getMessage().contains("threads") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test void invalidConvOptionIsAClearError() {
        KilnException e = assertThrows(KilnException.class, () -> new CpuBackend().compile(graph(), Map.of("conv", "fft")));
        assertTrue(e.getMessage().contains("auto, direct, im2col or winograd") && e.getMessage().contains("'fft'"), e.getMessage());
    }

    @Test void anUnknownOptionIsAnErrorListingTheKnownOnes() {
        KilnException one = assertThrows(KilnException.class, () -> new CpuBackend().compile(graph(), Map.of("thread", "2")));
        assertEquals("unknown option 'thread' for the cpu backend; its options are threads, dump-code, conv", one.getMessage());
        // an OpenCL option given to the cpu backend is as wrong as a typo
        KilnException two = assertThrows(KilnException.class, () -> new CpuBackend().compile(graph(), Map.of("device", "gpu", "threads", "1", "Conv", "direct")));
        assertEquals("unknown options 'Conv', 'device' for the cpu backend; its options are threads, dump-code, conv", two.getMessage());
    }

    /** auto: the 3×3 conv of graph() has rows of 19 (narrower than the GEMM's pixel tile), so it goes through the implicit-im2col GEMM; forced modes are obeyed (winograd too, though 3→8 channels is far below where auto would take it). */
    @Test void convOptionChoosesHowADenseConvLowers() {
        Map<String, String> expected = Map.of("auto", GemmLowering.NR > 19 ? "[GemmKernel]" : "[ConvKernel]", "direct", "[ConvKernel]", "im2col", "[GemmKernel]",
                "winograd", "(winograd input) [WinogradInputKernel]");
        Map<String, HostTensor> want = ReferenceInterpreter.run(graph(), Map.of("x", input(3)));
        for (var mode : expected.entrySet()) {
            try (CpuExecutable exe = (CpuExecutable) new CpuBackend().compile(graph(), Map.of("conv", mode.getKey()))) {
                List<String> convSteps = exe.steps().stream().filter(s -> s instanceof Step.KernelStep).map(s -> ((Step.KernelStep) s).name())
                        .filter(n -> n.startsWith("conv2d")).toList();
                assertTrue(convSteps.stream().anyMatch(n -> n.contains(mode.getValue())), "conv=" + mode.getKey() + ": " + convSteps);
                assertTrue(output(exe.run(Map.of("x", input(3)))).relativeL2Error(output(want)) < 1e-5, "conv=" + mode.getKey());
            }
        }
    }

    private static HostTensor output(Map<String, HostTensor> outputs) { return outputs.values().iterator().next(); }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
