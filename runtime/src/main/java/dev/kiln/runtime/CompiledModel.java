package dev.kiln.runtime;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Shape;
import dev.kiln.passes.FusionReport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model compiled for one target, called with named tensors. Calls with input shapes not seen
 * before compile a specialisation on first use (DSL models, and ONNX models with dynamic dimensions such as
 * batch and sequence, also when loaded from their artifact) and cache it; models from a graph or another
 * artifact have fixed shapes. Thread-safe: any number of threads may call {@link #run} at once.
 *
 * <p>The primary specialisation (the first shapes compiled) is what {@link #save}, {@link #signature}
 * and the report accessors describe.
 */
public final class CompiledModel implements AutoCloseable {
    private final GraphSource source;
    private final Target target;
    private final SpecialisationCache cache;
    private volatile List<Shape> primary;
    /** User calls in flight: a background warm-up waits while there are any, so it never competes with them. */
    private final java.util.concurrent.atomic.AtomicInteger userCalls = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closing;
    private Thread warmUpThread;

    CompiledModel(GraphSource source, Target target, int cacheCapacity) {
        this.source = source;
        this.target = target;
        this.cache = new SpecialisationCache(cacheCapacity, source::specialise);
    }

    /** Runs on named inputs; returns the named outputs in the graph's order. */
    public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
        userCalls.incrementAndGet();
        try (SpecialisationCache.Lease lease = acquire(shapesOf(inputs))) {
            return lease.specialisation().executable().run(inputs);
        } finally {
            userCalls.decrementAndGet();
        }
    }

    /**
     * Calls the primary specialisation on scratch inputs until the JIT has compiled its kernels
     * (see {@link WarmUp}), at most ~15 s ({@code -Dkiln.warmup.budget.ms}); returns what it did.
     * Afterwards the first call runs compiled code. Results are unchanged: warm-up calls are
     * ordinary calls on their own working memory. Safe to call while other threads run the model.
     */
    public WarmUp.Report warmUp() { return warmUp(java.time.Duration.ofMillis(WarmUp.defaultBudgetMs())); }

    /** {@link #warmUp()} that stops after the budget, settled or not. */
    public WarmUp.Report warmUp(java.time.Duration budget) {
        try (SpecialisationCache.Lease lease = cache.acquire(primaryKey(), true)) {
            return warm(lease.specialisation(), budget.toMillis(), () -> {});
        }
    }

    /** A model that interprets its first calls warms up on its own thread already: wait for that instead of calling. */
    private WarmUp.Report warm(Specialisation s, long budgetMs, Runnable beforeCall) {
        if (s.executable() instanceof TieredExecutable t) {
            WarmUp.Report r = t.awaitCompiled(budgetMs);
            return r != null ? r : new WarmUp.Report(0, budgetMs, false, 0);
        }
        return WarmUp.run(s.executable(), s.graph(), budgetMs, () -> closing, beforeCall);
    }

    /** Whether the primary specialisation's calls run the backend's kernels (false while a model loaded to interpret its first calls is still warming them). */
    public boolean runsKernels() {
        return !(primary().executable() instanceof TieredExecutable t) || t.compiled();
    }

    /**
     * Starts {@link #warmUp()} on a daemon thread that gives way to the user: it starts no warm-up
     * call while a {@link #run} is in flight, so it mostly uses time the caller leaves idle (a user
     * call that begins during a warm-up call shares the cores with it until that call ends; the
     * JIT's compiler threads compile the kernels either way). {@link #close} stops it.
     * Returns the warm-up's report when it ends; calling it again returns the same future.
     */
    public synchronized java.util.concurrent.CompletableFuture<WarmUp.Report> warmUpInBackground() {
        if (backgroundWarmUp != null) return backgroundWarmUp;
        List<Shape> key = primaryKey();
        var done = new java.util.concurrent.CompletableFuture<WarmUp.Report>();
        backgroundWarmUp = done;
        warmUpThread = Thread.ofPlatform().daemon().name("kiln-warm-up").start(() -> {
            try (SpecialisationCache.Lease lease = cache.acquire(key, true)) {
                done.complete(warm(lease.specialisation(), WarmUp.defaultBudgetMs(), this::waitForIdle));
            } catch (RuntimeException | Error e) {
                // closed before the warm-up began or while a call was starting: that is a stop, not a failure
                if (closing) done.complete(new WarmUp.Report(0, 0, false, 0));
                else done.completeExceptionally(e);
            }
        });
        return done;
    }

    private java.util.concurrent.CompletableFuture<WarmUp.Report> backgroundWarmUp;

    /** Parks the warm-up thread while a user call runs (50 µs naps: short beside a cold call, cheap beside a warm one). */
    private void waitForIdle() {
        while (userCalls.get() > 0 && !closing) java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }

    private List<Shape> primaryKey() {
        List<Shape> key = primary;
        if (key == null) throw new KilnException("nothing compiled yet: run the model once or pass input shapes to Kiln.compile");
        return key;
    }

    /** Runs a model with one input and one output. */
    public HostTensor run(HostTensor input) {
        List<String> names = source.inputNames();
        if (names.size() != 1)
            throw new KilnException("this model has inputs " + names + "; pass them by name with run(Map)");
        Map<String, HostTensor> out = run(Map.of(names.getFirst(), input));
        if (out.size() != 1) throw new KilnException("this model has outputs " + out.keySet() + "; use run(Map)");
        return out.values().iterator().next();
    }

    /** Compiles (or finds) the specialisation for these input shapes, in input order, without running it. */
    public Specialisation specialise(Shape... inputShapes) {
        List<String> names = source.inputNames();
        if (inputShapes.length != names.size())
            throw new KilnException("this model has " + names.size() + " input(s) " + names + " but " + inputShapes.length + " shape(s) were given");
        try (SpecialisationCache.Lease lease = acquire(List.of(inputShapes))) {
            return lease.specialisation();
        }
    }

    private SpecialisationCache.Lease acquire(List<Shape> key) {
        boolean first = false;
        if (primary == null) {
            synchronized (this) {
                if (primary == null) { primary = key; first = true; }
            }
        }
        try {
            return cache.acquire(key, first);
        } catch (RuntimeException | Error e) {
            if (first) primary = null;
            throw e;
        }
    }

    private List<Shape> shapesOf(Map<String, HostTensor> inputs) {
        List<String> names = source.inputNames();
        List<Shape> shapes = new ArrayList<>(names.size());
        for (String n : names) {
            HostTensor t = inputs.get(n);
            if (t == null) throw new KilnException("missing input '" + n + "'" + expected(n) + "; given " + inputs.keySet());
            shapes.add(t.shape());
        }
        for (String k : inputs.keySet())
            if (!names.contains(k)) throw new KilnException("unknown input '" + k + "'; the model's inputs are " + names);
        if (source instanceof GraphSource.Fixed f) f.check(shapes);
        return shapes;
    }

    private String expected(String input) {
        if (!(source instanceof GraphSource.Fixed f)) return "";
        return f.graph().inputs().stream().filter(v -> v.name().equals(input)).findFirst().map(v -> " (expected " + v.type() + ")").orElse("");
    }

    /** The primary specialisation: the first input shapes this model was compiled for. */
    public Specialisation primary() {
        List<Shape> key = primary;
        if (key == null) throw new KilnException("nothing compiled yet: run the model once or pass input shapes to Kiln.compile");
        try (SpecialisationCache.Lease lease = cache.acquire(key, true)) {
            return lease.specialisation();
        }
    }

    public Signature signature() { return primary().signature(); }
    public Graph optimisedGraph() { return primary().graph(); }
    public String ir() { return primary().ir(); }
    public Optional<FusionReport> fusionReport() { return primary().fusionReport(); }
    public String fusionReportText() { return primary().fusionReportText(); }
    public MemoryPlan memoryPlan() { return primary().memoryPlan(); }

    public Target target() { return target; }

    /**
     * Each input's dimensions as the ONNX model declares them ("batch", "sequence", or a number), for a model
     * imported from ONNX with dynamic dimensions; empty otherwise (a DSL model takes any shape its layers accept).
     */
    public Map<String, List<String>> declaredDims() {
        return source instanceof GraphSource.Onnx o ? dev.kiln.frontend.onnx.OnnxImporter.declaredDims(o.model(), o.file()) : Map.of();
    }

    /** Whether calls with other input shapes than the primary's compile (DSL models, ONNX models with dynamic dimensions). */
    public boolean acceptsOtherShapes() { return !(source instanceof GraphSource.Fixed); }

    /** Specialisations compiled so far (a call that waited for another's compilation does not count). */
    public int compilations() { return cache.compilations(); }

    /** Input-shape signatures cached now, least recently used first. */
    public List<List<Shape>> cachedShapes() { return cache.keys(); }

    /** Writes the primary specialisation as a {@code .kiln} artifact (see {@link Artifact}). */
    public void save(Path file) {
        Specialisation s = primary();
        Artifact.of(s.graph(), s.fusionReportText(), target.backendName()).withSourceModel(source.sourceModel()).write(file);
    }

    /** Stops a background warm-up (after its call in flight), then releases every executable; calls still running finish first. */
    @Override public void close() {
        closing = true;
        Thread t;
        synchronized (this) { t = warmUpThread; }
        if (t != null && t != Thread.currentThread()) {
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        cache.close();
    }
}
