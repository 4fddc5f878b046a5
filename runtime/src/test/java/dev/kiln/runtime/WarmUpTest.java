package dev.kiln.runtime;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Warm-up changes when the kernels are compiled, never what a call returns; it stops when the model closes. */
class WarmUpTest {
    /** Short budgets: these tests check behaviour, not that C2 finished (ColdStart in bench measures that). */
    private static final Duration BUDGET = Duration.ofMillis(400);

    @Test
    void resultsAfterAnExplicitWarmUpAreBitIdenticalToTheColdCall() {
        HostTensor x = TestModels.input(TestModels.SMALL, 1);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL)) {
            float[] cold = m.run(x).data();
            WarmUp.Report r = m.warmUp(BUDGET);
            assertTrue(r.calls() >= 1, r.toString());
            assertArrayEquals(cold, m.run(x).data());
        }
    }

    @Test
    void backgroundWarmUpNeverChangesConcurrentCallersResults() throws Exception {
        HostTensor x = TestModels.input(TestModels.SMALL, 2);
        try (CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu().withOption("threads", "2"), TestModels.SMALL)) {
            float[] expected = m.run(x).data();
            var warm = m.warmUpInBackground();
            try (ExecutorService callers = Executors.newFixedThreadPool(2)) {
                List<Future<float[]>> results = new ArrayList<>();
                for (int i = 0; i < 40; i++) results.add(callers.submit(() -> m.run(x).data()));
                for (Future<float[]> f : results) assertArrayEquals(expected, f.get());
            }
            warm.get(30, TimeUnit.SECONDS);
            assertArrayEquals(expected, m.run(x).data());
        }
    }

    @Test
    void closeStopsABackgroundWarmUp() throws Exception {
        CompiledModel m = Kiln.compile(TestModels.dwsep(), Target.cpu(), TestModels.SMALL);
        var warm = m.warmUpInBackground();
        m.close();
        assertTrue(warm.isDone(), "close() waits for the warm-up thread");
        WarmUp.Report r = warm.get();
        assertTrue(r.calls() >= 0, r.toString());
        assertThrows(KilnException.class, m::warmUp);
    }
}
