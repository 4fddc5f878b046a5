package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** One executable run from several threads at once: each run gets its own buffers and its own answer. */
class ConcurrencyTest {
    @Test
    void concurrentRunsEachUseTheirOwnBuffersAndGetTheirOwnResults() throws Exception {
        Graph g = ResourceReleaseTest.graph();
        int threads = 4, runs = 15;
        List<Map<String, HostTensor>> inputs = new ArrayList<>(), expected = new ArrayList<>();
        for (int i = 0; i < threads * runs; i++) {
            inputs.add(OpenClTesting.inputs(g, 100 + i));
            expected.add(ReferenceInterpreter.run(g, inputs.getLast()));
        }
        try (Executable e = OpenClTesting.compile(g); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * runs;
                done.add(pool.submit(() -> {
                    for (int i = first; i < first + runs; i++)
                        OpenClTesting.assertClose(expected.get(i), e.run(inputs.get(i)), "run " + i);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
            int sets = ((OpenClExecutable) e).bufferSets();
            assertTrue(sets >= 1 && sets <= threads, "buffer sets: " + sets);
        }
    }
}
