package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool's lifecycle: a close racing a dispatch never strands a posted chunk. */
class ParallelForTest {
    /**
     * The caller's chunk outlasts the worker's spin, so the worker has parked by the next
     * dispatch and needs an unpark: the widest window for a close to land between a posted
     * chunk and the worker picking it up.
     */
    private record SlowFirstChunk(AtomicInteger rows) implements Kernel {
        @Override public void run(float[][] bufs, int lo, int hi) {
            if (lo == 0) {
                long until = System.nanoTime() + 2 * ParallelFor.SPIN_NANOS;
                while (System.nanoTime() < until) Thread.onSpinWait();
            }
            rows.addAndGet(hi - lo);
        }
    }

    @Test
    void closeRacingRunsNeverStrandsAChunk() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < 200; i++) {
                ParallelFor pool = new ParallelFor(2);
                AtomicInteger rows = new AtomicInteger();
                Kernel k = new SlowFirstChunk(rows);
                CountDownLatch started = new CountDownLatch(1);
                AtomicBoolean closeReturned = new AtomicBoolean();
                CompletableFuture<Integer> runs = new CompletableFuture<>();
                Thread caller = new Thread(() -> {
                    int done = 0;
                    try {
                        while (!closeReturned.get()) {
                            started.countDown();
                            pool.run(k, new float[0][], 2);
                            done++;
                            assertEquals(2 * done, rows.get(), "a run returned before both chunks ran");
                        }
                        runs.complete(done);
                    } catch (IllegalStateException e) {
                        if (e.getMessage().contains("closed")) runs.complete(done);
                        else runs.completeExceptionally(e);
                    } catch (Throwable t) {
                        runs.completeExceptionally(t);
                    }
                }, "caller-" + i);
                caller.setDaemon(true);     // a hung caller must not keep the test JVM alive
                caller.start();
                started.await();
                LockSupport.parkNanos(random.nextLong(4 * ParallelFor.SPIN_NANOS));
                pool.close();
                closeReturned.set(true);
                runs.join();
            }
        });
    }

    @Test
    void runAfterCloseIsAnErrorThatSaysSo() {
        ParallelFor pool = new ParallelFor(2);
        pool.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((b, lo, hi) -> {}, new float[0][], 4));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void everyIndexRunsExactlyOnceForAnyRangeAndThreadCount() {
        SplittableRandom random = new SplittableRandom(11);
        for (int threads = 1; threads <= 4; threads++)
            try (ParallelFor pool = new ParallelFor(threads)) {
                for (int i = 0; i < 300; i++) {
                    int range = 1 + random.nextInt(i % 3 == 0 ? 5 : 200);
                    java.util.concurrent.atomic.AtomicIntegerArray hits = new java.util.concurrent.atomic.AtomicIntegerArray(range);
                    pool.run((b, lo, hi) -> { for (int j = lo; j < hi; j++) hits.incrementAndGet(j); }, new float[0][], range);
                    for (int j = 0; j < range; j++) assertEquals(1, hits.get(j), "index " + j + " of " + range + " on " + threads + " threads");
                }
            }
    }

    /**
     * A worker that loses its core mid-grain (here: sleeps in its first grain) holds up only that
     * grain: the caller claims every other one instead of waiting for a fixed half of the range.
     */
    @Test
    void theCallerTakesTheGrainsOfAStalledWorker() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (ParallelFor pool = new ParallelFor(2)) {
                Thread caller = Thread.currentThread();
                int range = 64, grains = ParallelFor.grainsFor(2, range);
                AtomicInteger byCaller = new AtomicInteger(), stalled = new AtomicInteger();
                // the caller's grains take a while, so the worker wakes and claims one even on a loaded machine
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (stalled.get() == 0 && System.nanoTime() < deadline) {
                    byCaller.set(0);
                    pool.run((b, lo, hi) -> {
                        if (Thread.currentThread() == caller) {
                            byCaller.incrementAndGet();
                            long until = System.nanoTime() + 100_000;
                            while (System.nanoTime() < until) Thread.onSpinWait();
                        } else if (stalled.compareAndSet(0, 1)) LockSupport.parkNanos(300_000_000L);
                    }, new float[0][], range);
                }
                assertEquals(1, stalled.get(), "the worker never took a grain");
                assertTrue(byCaller.get() >= grains - 2, "the caller ran " + byCaller.get() + " of " + grains
                        + " grains while the worker was stalled in one");
            }
        });
    }
}
