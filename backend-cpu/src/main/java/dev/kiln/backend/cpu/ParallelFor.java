package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a kernel's range on the calling thread and the pool's workers: the range is cut into a
 * few contiguous grains per thread, and every thread, the caller included, claims the next
 * grain from a shared counter until none is left.
 *
 * <p>Why grains claimed at run time rather than one fixed chunk per thread: on a shared machine
 * a worker may be descheduled for a whole time slice. With a fixed split the caller then waits
 * for that worker's chunk (a 0.1 ms model took 5 ms at p90 beside a busy neighbour); with grains
 * the caller takes the work a sleeping worker has not claimed, and waits at most for the one
 * grain a worker was running when it lost its core.
 *
 * <p>Why not an ExecutorService: a model is a chain of short kernels (tens of microseconds at
 * batch 1), and waking a parked pool thread costs about as much as a kernel. Measured on the
 * target models, a fixed thread pool made two threads 1.5–7× slower than one (lstm: 10 µs on one
 * thread, 70 µs on two). So workers spin for a while after each dispatch, waiting for the next
 * one, and park only when the model has gone idle ({@link #SPIN_NANOS}); a dispatch then costs a
 * volatile write and, at most, one unpark per worker. A dispatch allocates nothing.
 *
 * <p>The workers serve one call at a time. A concurrent caller that finds them busy runs its
 * whole range on its own thread: no call ever waits for another's kernels, and with more calls
 * than cores in flight there is nothing to gain from splitting anyway.
 *
 * <p>close() takes the same lock as a dispatch, so it waits for the one in flight. A run after
 * close() fails.
 */
public final class ParallelFor implements AutoCloseable {
    /** How long an idle worker spins before it parks: longer than the gaps between kernels of one call. */
    static final long SPIN_NANOS = 200_000;
    /** Grains per thread: enough that a descheduled worker's share is small, few enough that claiming stays cheap. */
    static final int GRAINS_PER_THREAD = 4;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock busy = new ReentrantLock();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean closed;

    /*
     * The dispatch in flight. The fields below are written by the caller before it publishes a
     * new generation in `cursor`, and read by a thread only after it has claimed a grain of that
     * generation: a generation cannot end while one of its grains is claimed and not done, so the
     * fields a claimer reads are still its generation's.
     */
    private Kernel kernel;
    private float[][] bufs;
    private int range, grains;
    /** High 32 bits: the generation (one per dispatch); low 32 bits: grains not yet claimed. */
    private final AtomicLong cursor = new AtomicLong();
    /** Grains of the current generation that are finished. */
    private final AtomicInteger done = new AtomicInteger();

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

    public void run(Kernel k, float[][] b, int n) {
        if (closed) throw closedError();
        int g = grainsFor(threads, n);
        if (g <= 1 || !busy.tryLock()) {
            k.run(b, 0, n);
            return;
        }
        try {
            if (closed) throw closedError();     // close() came between the check above and the lock
            failure.set(null);
            kernel = k;
            bufs = b;
            range = n;
            grains = g;
            done.set(0);
            long generation = (cursor.get() >>> 32) + 1;
            cursor.set(generation << 32 | g);    // volatile: publishes the fields above
            for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
            try {
                claimGrains(generation);
            } finally {
                awaitGrains(g);                  // even on failure: the workers still write into bufs
                kernel = null;
                bufs = null;
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error er) throw er;
        } finally {
            busy.unlock();
        }
    }

    /** How many grains a range of n is cut into on this many threads. */
    static int grainsFor(int threads, int n) {
        return threads <= 1 ? 1 : Math.min(n, threads * GRAINS_PER_THREAD);
    }

    /** Claims and runs grains of this generation until none is left. A kernel failure ends the claiming thread's share. */
    private void claimGrains(long generation) {
        while (true) {
            long c = cursor.get();
            int left = (int) c;
            if (c >>> 32 != generation || left == 0) return;
            if (!cursor.compareAndSet(c, c - 1)) continue;
            int grain = grains - left, n = range;
            try {
                kernel.run(bufs, (int) ((long) n * grain / grains), (int) ((long) n * (grain + 1) / grains));
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                done.incrementAndGet();
            }
        }
    }

    private void awaitGrains(int g) {
        for (int spins = 0; done.get() != g; spins++) {
            if (spins < 1 << 16) Thread.onSpinWait();
            else Thread.yield();   // a worker was descheduled inside a grain: let it run
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

    /** One pool thread: waits for a new generation, then claims grains like the caller. */
    private final class Worker extends Thread {
        private volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override public void run() {
            long seen = 0;
            while (true) {
                long idleSince = System.nanoTime();
                while (cursor.get() >>> 32 == seen && !closed) {
                    if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;            // then re-check, so a dispatch between the two is never missed
                    if (cursor.get() >>> 32 == seen && !closed) LockSupport.park(this);
                    parked = false;
                }
                if (closed) return;           // close() waited for the dispatch in flight: no grain of it is left unclaimed
                seen = cursor.get() >>> 32;
                claimGrains(seen);
            }
        }
    }
}
