package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Softmax;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every OpenCL object an executable creates is released by close(): after many compile/run/close
 * cycles the live buffers, kernels and programs are back where they started, and the resident
 * memory stays flat. CI runs a few hundred cycles; backend-opencl/scripts/native-memory-cycles.sh
 * runs the full 10,000 (-Dkiln.opencl.cycles=N) and prints the resident memory before and after.
 */
class ResourceReleaseTest {
    static final int CYCLES = Integer.getInteger("kiln.opencl.cycles", 300);
    /** Cycles run before the first sample: the JIT and the allocators grow for ~10,000 cycles, then stay flat. */
    static final int WARMUP = Integer.getInteger("kiln.opencl.warmup", Math.max(20, CYCLES / 10));

    static Graph graph() {
        TestGraph t = new TestGraph("cycle");
        String x = t.input(1, 3, 9, 9);
        String a = t.op(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1, Epilogue.of(Act.RELU)),
                x, t.weight(4, 3, 3, 3), t.weight(4));
        String b = t.op(Conv2d.of(1, 4), a, t.weight(4, 1, 3, 3));
        return t.returning(t.op(new Softmax(1), b));
    }

    @Test
    void compileRunCloseCyclesReleaseEveryOpenClObjectAndKeepResidentMemoryFlat() throws IOException {
        OpenClTesting.assumeOpenCl();
        Graph g = graph();
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 1);
        for (int i = 0; i < WARMUP; i++) cycle(g, in);
        long buffers = ClObjects.live(ClObjects.Kind.BUFFER), kernels = ClObjects.live(ClObjects.Kind.KERNEL);
        long programs = ClObjects.live(ClObjects.Kind.PROGRAM), contexts = ClObjects.live(ClObjects.Kind.CONTEXT);
        System.gc();
        long rssBefore = residentKiB();
        for (int i = 0; i < CYCLES; i++) cycle(g, in);
        System.gc();
        long rssAfter = residentKiB();
        System.out.printf("opencl: %d compile/run/close cycles after %d to warm up: resident memory %d KiB before, %d KiB after (%+d KiB)%n",
                CYCLES, WARMUP, rssBefore, rssAfter, rssAfter - rssBefore);
        assertEquals(buffers, ClObjects.live(ClObjects.Kind.BUFFER), "buffers");
        assertEquals(kernels, ClObjects.live(ClObjects.Kind.KERNEL), "kernels");
        assertEquals(programs, ClObjects.live(ClObjects.Kind.PROGRAM), "programs");
        assertEquals(contexts, ClObjects.live(ClObjects.Kind.CONTEXT), "contexts");
        // a leaked arena, kernel or program per cycle would add far more than this; the JVM's own growth stays below it
        assertTrue(rssAfter - rssBefore < 64 * 1024 + CYCLES * 4L, "resident memory grew by " + (rssAfter - rssBefore) + " KiB");
    }

    private static void cycle(Graph g, Map<String, HostTensor> in) {
        try (Executable e = OpenClTesting.compile(g)) {
            e.run(in);
        }
    }

    /** VmRSS from /proc/self/status (Linux), in KiB; 0 elsewhere. */
    static long residentKiB() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return 0;
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0);
    }
}
