package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Function;

/**
 * The JIT cache of one model: one specialisation per input-shape signature, compiled on first
 * use. Thread-safe; concurrent first calls with the same shapes compile once (the first caller
 * compiles, the others wait for its result). Bounded: beyond the capacity the least recently
 * used entry is dropped, and its executable is closed once no call is still running on it. A
 * failed compilation is not cached, so a later call tries again. One entry may be pinned (the
 * model's primary specialisation, which save and inspect use) and is never evicted.
 */
final class SpecialisationCache implements AutoCloseable {
    /** A specialisation in use by one call; closing it lets an evicted entry release its executable. */
    final class Lease implements AutoCloseable {
        private final Entry entry;
        private final Specialisation spec;
        private boolean released;

        private Lease(Entry entry, Specialisation spec) { this.entry = entry; this.spec = spec; }

        Specialisation specialisation() { return spec; }

        @Override public void close() {
            if (released) return;
            released = true;
            release(entry);
        }
    }

    private static final class Entry {
        final FutureTask<Specialisation> task;
        int users;
        boolean evicted, pinned;

        Entry(FutureTask<Specialisation> task) { this.task = task; }
    }

    private final int capacity;
    private final Function<List<Shape>, Specialisation> compiler;
    private final LinkedHashMap<List<Shape>, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private int compilations;
    private boolean closed;

    SpecialisationCache(int capacity, Function<List<Shape>, Specialisation> compiler) {
        this.capacity = capacity;
        this.compiler = compiler;
    }

    /** The specialisation for these input shapes, compiling it if no call has yet; close the lease after the call. */
    Lease acquire(List<Shape> key, boolean pin) {
        List<Shape> k = List.copyOf(key);
        Entry e;
        boolean compileHere = false;
        synchronized (this) {
            if (closed) throw new KilnException("the compiled model is closed");
            e = entries.get(k);
            if (e == null) {
                e = new Entry(new FutureTask<>(() -> compiler.apply(k)));
                entries.put(k, e);
                compilations++;
                compileHere = true;
            }
            e.users++;
            if (pin) e.pinned = true;
        }
        if (compileHere) e.task.run();
        Specialisation spec;
        try {
            spec = await(e.task);
        } catch (RuntimeException | Error failure) {
            synchronized (this) {
                e.users--;
                if (entries.get(k) == e) entries.remove(k);
            }
            throw failure;
        }
        if (compileHere) evictOverflow();
        return new Lease(e, spec);
    }

    private static Specialisation await(FutureTask<Specialisation> task) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException ie) {
                    interrupted = true;
                } catch (ExecutionException ee) {
                    Throwable c = ee.getCause();
                    if (c instanceof RuntimeException re) throw re;
                    if (c instanceof Error err) throw err;
                    throw new KilnException("compilation failed: " + c, c);
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private void evictOverflow() {
        List<Entry> toClose = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<List<Shape>, Entry>> it = entries.entrySet().iterator();
            int excess = entries.size() - capacity;
            while (excess > 0 && it.hasNext()) {
                Entry e = it.next().getValue();
                if (e.pinned) continue;
                it.remove();
                excess--;
                e.evicted = true;
                if (e.users == 0) toClose.add(e);
            }
        }
        toClose.forEach(SpecialisationCache::closeExecutable);
    }

    private void release(Entry e) {
        boolean close;
        synchronized (this) {
            e.users--;
            close = e.evicted && e.users == 0;
        }
        if (close) closeExecutable(e);
    }

    private static void closeExecutable(Entry e) {
        if (!e.task.isDone()) return;
        try {
            e.task.get().executable().close();
        } catch (ExecutionException | InterruptedException ignored) {
            // a failed compilation has no executable to release
        }
    }

    /** How many compilations have started (a hit on a cached or in-flight specialisation is not one). */
    synchronized int compilations() { return compilations; }

    /** How many specialisations are cached now (including one being compiled). */
    synchronized int size() { return entries.size(); }

    /** Every cached input-shape signature, least recently used first. */
    synchronized List<List<Shape>> keys() { return List.copyOf(entries.keySet()); }

    /** Closes every executable now unused; those in use close when their last call returns. */
    @Override public void close() {
        List<Entry> toClose = new ArrayList<>();
        synchronized (this) {
            if (closed) return;
            closed = true;
            for (Entry e : entries.values()) {
                e.evicted = true;
                if (e.users == 0) toClose.add(e);
            }
            entries.clear();
        }
        toClose.forEach(SpecialisationCache::closeExecutable);
    }
}
