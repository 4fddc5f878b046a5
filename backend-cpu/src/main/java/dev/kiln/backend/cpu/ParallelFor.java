package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Splits a kernel's range into one contiguous chunk per thread on a fixed pool; the calling
 * thread runs the first chunk itself. Concurrent callers share the pool safely: workers never
 * wait, so chunks always drain.
 */
public final class ParallelFor implements AutoCloseable {
    private final int threads;
    private final ExecutorService pool;

    public ParallelFor(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "kiln-cpu-worker");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() { return threads; }

    public void run(Kernel k, float[][] bufs, int range) {
        int chunks = Math.min(threads, range);
        if (chunks <= 1) {
            k.run(bufs, 0, range);
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int c = 1; c < chunks; c++) {
            int lo = (int) ((long) range * c / chunks), hi = (int) ((long) range * (c + 1) / chunks);
            pool.execute(() -> {
                try {
                    k.run(bufs, lo, hi);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            k.run(bufs, 0, range / chunks);
        } finally {
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel workers", e);
            }
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error er) throw er;
    }

    @Override public void close() { if (pool != null) pool.shutdownNow(); }
}
