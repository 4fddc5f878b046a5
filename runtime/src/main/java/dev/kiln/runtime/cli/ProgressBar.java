package dev.kiln.runtime.cli;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on stderr for long runs: silent for the first second, then redrawn in
 * place ({@code \r}) a few times a second; {@link #close} erases it.
 */
final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    static final long QUIET_MS = 1000;
    private static final long EVERY_MS = 250;

    private final PrintWriter err;
    private final long total;
    private final LongSupplier done;
    private final long quietMs;
    private final Thread thread;
    private volatile boolean running = true;
    private boolean shown;

    ProgressBar(PrintWriter err, String label, long total, LongSupplier done) { this(err, label, total, done, QUIET_MS); }

    ProgressBar(PrintWriter err, String label, long total, LongSupplier done, long quietMs) {
        this.err = err;
        this.quietMs = quietMs;
        this.total = total;
        this.done = done;
        this.thread = Thread.ofPlatform().daemon().name("kiln-progress").start(() -> loop(label));
    }

    private void loop(String label) {
        long t0 = System.nanoTime();
        try {
            Thread.sleep(quietMs);
            while (running) {
                long d = Math.min(done.getAsLong(), total);
                int filled = (int) (WIDTH * d / Math.max(1, total));
                double elapsed = (System.nanoTime() - t0) / 1e9;
                synchronized (err) {
                    err.printf("\r%s [%s%s] %d/%d calls, %.1f s", label, "#".repeat(filled), "-".repeat(WIDTH - filled), d, total, elapsed);
                    err.flush();
                    shown = true;
                }
                Thread.sleep(EVERY_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (err) {
            if (shown) {
                err.print("\r" + " ".repeat(WIDTH + 60) + "\r");
                err.flush();
            }
        }
    }
}
