package dev.kiln.runtime;

import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.models.DepthwiseSeparableConv2d;
import dev.kiln.ir.Backend;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Small models and a counting backend for the runtime's tests. */
final class TestModels {
    private TestModels() {}

    static final Shape SMALL = Shape.of(1, 4, 8, 8);

    /** Depthwise 3×3 then pointwise 4→8: fuses, compiles in milliseconds. */
    static Module dwsep() { return new DepthwiseSeparableConv2d(4, 8).initialize(3); }

    /** A model with two graph outputs is not expressible in the DSL; this one returns relu(x)+x for shape checks. */
    static Module residualRelu() {
        return new Module() {
            @Override public Tensor forward(Tensor x) { return x.relu().add(x); }
        };
    }

    static HostTensor input(Shape s, long seed) { return HostTensor.normal(s, seed); }

    /** The CPU backend, counting compilations and closes, optionally slow or failing on its first compile. */
    static final class CountingBackend implements Backend {
        final AtomicInteger compiles = new AtomicInteger(), closes = new AtomicInteger();
        final long delayMillis;
        volatile boolean failNext;

        CountingBackend(long delayMillis) { this.delayMillis = delayMillis; }

        @Override public String name() { return "cpu"; }
        @Override public boolean isAvailable() { return true; }

        @Override public Executable compile(Graph g, Map<String, String> options) {
            compiles.incrementAndGet();
            if (failNext) { failNext = false; throw new dev.kiln.ir.KilnException("injected compile failure"); }
            try { Thread.sleep(delayMillis); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            Executable inner = new CpuBackend().compile(g, options);
            return new Executable() {
                @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) { return inner.run(inputs); }
                @Override public void close() { closes.incrementAndGet(); inner.close(); }
            };
        }
    }
}
