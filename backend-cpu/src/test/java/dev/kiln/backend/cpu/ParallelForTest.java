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
}
