package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits a kernel's range into one contiguous chunk per thread; the calling thread runs the
 * first chunk itself.
 *
 * <p>Why not an ExecutorService: a model is a chain of short kernels (tens of microseconds at
 * batch 1), and waking a parked pool thread costs about as much as a kernel. Measured on the
 * target models, a fixed thread pool made two threads 1.5–7× slower than one (lstm: 10 µs on one
 * thread, 70 µs on two). So workers spin for a while after each chunk, waiting for the next one,
 * and park only when the model has gone idle ({@link #SPIN_NANOS}); a dispatch then costs a
 * volatile write and, at most, one unpark.
 *
 * <p>The workers serve one call at a time. A concurrent caller that finds them busy runs its
 * whole range on its own thread: no call ever waits for another's kernels, and with more calls
 * than cores in flight there is nothing to gain from splitting anyway.
 *
 * <p>close() takes the same lock as a dispatch, so it waits for the one in flight: a worker may
 * only leave once no chunk it was posted can still be waited for. A run after close() fails.
 */
public final class ParallelFor implements AutoCloseable {
    /** How long an idle worker spins before it parks: longer than the gaps between kernels of one call. */
    static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock busy = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean closed;

    public ParallelFor(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("kiln-cpu-worker-" + (i + 1));
            workers[i].start();
        }
    }

    public int threads() { return threads; }

    public void run(Kernel k, float[][] bufs, int range) {
        if (closed) throw closedError();
        int chunks = Math.min(threads, range);
        if (chunks <= 1 || !busy.tryLock()) {
            k.run(bufs, 0, range);
            return;
        }
        try {
            if (closed) throw closedError();     // close() came between the check above and the lock
            failure.set(null);
            pending.set(chunks - 1);
            for (int c = 1; c < chunks; c++)
                workers[c - 1].submit(k, bufs, (int) ((long) range * c / chunks), (int) ((long) range * (c + 1) / chunks));
            try {
                k.run(bufs, 0, range / chunks);
            } finally {
                awaitWorkers();   // even on failure: the workers still write into bufs
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error er) throw er;
        } finally {
            busy.unlock();
        }
    }

    private void awaitWorkers() {
        for (int spins = 0; pending.get() != 0; spins++) {
            if (spins < 1 << 16) Thread.onSpinWait();
            else Thread.yield();   // a worker was descheduled: let it run
        }
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("the CPU worker pool (" + threads + " threads) is closed");
    }

    @Override public void close() {
        busy.lock();
        try {
            closed = true;
        } finally {
            busy.unlock();
        }
        for (Worker w : workers) LockSupport.unpark(w);
    }

    /** One pool thread: a mailbox of one chunk, published by a volatile sequence number. */
    private final class Worker extends Thread {
        private Kernel kernel;
        private float[][] bufs;
        private int lo, hi;
        private volatile long posted;
        private volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void submit(Kernel k, float[][] b, int from, int to) {
            kernel = k;
            bufs = b;
            lo = from;
            hi = to;
            posted++;                         // volatile write publishes the fields above
            if (parked) LockSupport.unpark(this);
        }

        @Override public void run() {
            long done = 0;
            while (true) {
                long idleSince = System.nanoTime();
                while (posted == done && !closed) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;            // then re-check, so a submit between the two is never missed
                    if (posted == done && !closed) LockSupport.park(this);
                    parked = false;
                }
                if (posted == done) return;   // closed, and nothing posted: a posted chunk always runs, or its caller would wait forever
                done = posted;
                try {
                    kernel.run(bufs, lo, hi);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    bufs = null;
                    pending.decrementAndGet();
                }
            }
        }
    }
}
