package dev.kiln.runtime;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.ReferenceInterpreter;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An executable that answers its first calls with the reference interpreter while the backend's
 * kernels are generated and warmed up on a background thread, then switches to them between two
 * calls (as the JVM runs bytecode in its interpreter until the JIT has compiled it).
 *
 * <p>Why: a cold Vector API kernel runs boxed until C2 has compiled it, so the first calls of a
 * freshly loaded model are 10–1000× slower than steady state, and generating the kernels costs
 * ~0.2 s before the first of them. The interpreter's plain loops are compiled by C1 within a call:
 * on cnn (2 cores, Zen 4) its first call took 51 ms where the kernels' took 223 ms, plus the 190 ms
 * of code generation the interpreter does not wait for. Its steady state is ~100× slower than the
 * kernels', which is why it only bridges the warm-up ({@link WarmUp}: until the kernels' calls stop
 * allocating and their time has settled, or the warm-up budget ends).
 *
 * <p>Results before and after the switch differ within the tolerance the property suites check
 * (the interpreter accumulates in double), not bit for bit. A backend that fails to compile fails
 * every call after the failure, with the backend's error as the cause; the interpreted answers
 * before it were correct.
 */
final class TieredExecutable implements Executable {
    private final Graph graph;
    private final Thread compiler;
    private volatile Executable compiled;
    private volatile boolean switched, closing;
    /** Guarded by this: whether the background thread has finished (then close() releases the kernels, else that thread does). */
    private boolean compilerDone, released;
    private volatile Throwable failure;
    private volatile WarmUp.Report warmUp;
    private final Object done = new Object();

    TieredExecutable(Graph graph, Supplier<Executable> compile) {
        this.graph = graph;
        this.compiler = Thread.ofPlatform().daemon().name("kiln-tiered-compile").unstarted(() -> compileAndWarm(compile));
        compiler.start();
    }

    /**
     * Released by the end of the first call (or a wait for the kernels, or close): the code generation
     * waits for it, at most {@link #HEAD_START_MS}, so the first call does not share two cores with it
     * and the JIT threads (cnn: 66–112 ms beside the code generation against ~50 alone).
     */
    private final java.util.concurrent.CountDownLatch firstCallDone = new java.util.concurrent.CountDownLatch(1);
    static final long HEAD_START_MS = 200;

    private void compileAndWarm(Supplier<Executable> compile) {
        try {
            firstCallDone.await(HEAD_START_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (closing) return;
            compiled = compile.get();
            if (closing) return;
            warmUp = WarmUp.run(compiled, graph, WarmUp.defaultBudgetMs(), () -> closing, () -> {});
            switched = !closing;
        } catch (RuntimeException | Error | InterruptedException e) {
            failure = e;
        } finally {
            Executable release;
            synchronized (this) {
                compilerDone = true;
                release = closing && !released ? compiled : null;
                released |= release != null;
            }
            if (release != null) release.close();
            synchronized (done) { done.notifyAll(); }
        }
    }

    @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
        if (switched) return compiled.run(inputs);
        failIfBroken();
        Map<String, HostTensor> out;
        try {
            out = ReferenceInterpreter.run(graph, inputs);
        } finally {
            firstCallDone.countDown();
        }
        // an output that is an input or a weight is that very tensor in the interpreter: the caller gets a copy, as from the kernels
        for (var e : out.entrySet())
            if (inputs.get(e.getKey()) == e.getValue() || graph.isConstant(e.getKey())) e.setValue(e.getValue().copy());
        return out;
    }

    @Override public void runInto(Map<String, HostTensor> inputs, Map<String, HostTensor> outputs) {
        if (switched) compiled.runInto(inputs, outputs);
        else Executable.super.runInto(inputs, outputs);
    }

    private void failIfBroken() {
        Throwable t = failure;
        if (t != null) throw new KilnException("generating the kernels (in the background, while the first calls were interpreted) failed: " + t.getMessage(), t);
    }

    /** Whether calls now run the backend's kernels. */
    boolean compiled() { return switched; }

    /** Waits until the kernels are generated and warmed up, at most timeoutMs; returns the warm-up's report, or null if not there yet. */
    WarmUp.Report awaitCompiled(long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        firstCallDone.countDown();
        synchronized (done) {
            while (!switched && failure == null && compiler.isAlive()) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) return null;
                try {
                    done.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        failIfBroken();
        return warmUp;
    }

    @Override public Optional<MemoryPlan> memoryPlan() {
        Executable e = compiled;
        return e == null ? Optional.empty() : e.memoryPlan();
    }

    /**
     * Returns at once: a code generation in progress cannot be interrupted, and a one-call run should not
     * wait for it, so the background thread releases the kernels when it ends (after the warm-up's call in
     * flight, if warming); otherwise they are released here.
     */
    @Override public void close() {
        Executable release;
        firstCallDone.countDown();
        synchronized (this) {
            closing = true;
            release = compilerDone && !released ? compiled : null;
            released |= release != null;
        }
        if (release != null) release.close();
    }
}
