package dev.kiln.test;

import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.ir.Backend;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.passes.Passes;
import dev.kiln.runtime.Target;
import dev.kiln.test.kit.Choices;
import dev.kiln.test.kit.Discard;
import dev.kiln.test.kit.GraphGen;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The properties must catch small bugs, not only crashes: a backend that is the cpu backend with
 * one planted slip is run through the reference property, and nearly every case must expose it.
 */
class PlantedBugsTest {
    /** The cpu backend, with every output passed through a planted bug. */
    record Planted(UnaryOperator<float[]> bug) implements Backend {
        @Override public String name() { return "cpu"; }
        @Override public boolean isAvailable() { return true; }
        @Override public Executable compile(Graph g, Map<String, String> options) {
            Executable exe = new CpuBackend().compile(g, options);
            return new Executable() {
                @Override public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
                    Map<String, HostTensor> out = new LinkedHashMap<>();
                    exe.run(inputs).forEach((k, v) -> out.put(k, HostTensor.of(v.shape(), bug.apply(v.data().clone()))));
                    return out;
                }
                @Override public void close() { exe.close(); }
            };
        }
    }

    /** One element (the middle one) off by 0.1% of the output's scale. */
    static float[] oneElementOffByAPermille(float[] d) {
        double rms = 0;
        for (float v : d) if (Float.isFinite(v)) rms += (double) v * v;
        rms = Math.sqrt(rms / Math.max(1, d.length));
        int i = d.length / 2;
        if (Float.isFinite(d[i])) d[i] += (float) (1e-3 * Math.max(Math.abs(d[i]), rms) + 1e-30);
        return d;
    }

    /** NaN read as 0 (what a ReLU written as max(x, 0) on some hardware does). */
    static float[] nanAsZero(float[] d) {
        for (int i = 0; i < d.length; i++) if (Float.isNaN(d[i])) d[i] = 0;
        return d;
    }

    @Test
    void aPermilleErrorInOneElementIsCaughtInNearlyEveryCase() {
        assertCaught(GraphGen.finite(GraphGen.Options.DEFAULT), new Planted(PlantedBugsTest::oneElementOffByAPermille), 0.9);
    }

    /** Caught wherever an output is NaN, which the non-finite inputs make happen in most cases. */
    @Test
    void nanTurnedIntoZeroIsCaught() {
        assertCaught(GraphGen.nonFinite(GraphGen.Options.DEFAULT), new Planted(PlantedBugsTest::nanAsZero), 0.6);
    }

    private static void assertCaught(GraphGen.Generator gen, Backend planted, double atLeast) {
        Target target = Target.of(planted);
        int judged = 0, caught = 0;
        for (long seed = 0; seed < 100; seed++) {        // the first 100 cases of the CI run
            var c = gen.generate(Choices.random(seed));
            try {
                Tolerance.Expected want = Tolerance.expect(c);
                if (want.check(Targets.run(c, target, Passes.DEFAULT), "planted", 1) != null) caught++;
                judged++;
            } catch (Discard d) {
                // beyond the range where results are judged
            }
        }
        System.out.println("[kiln-planted] caught " + caught + " of " + judged + " cases");
        double rate = (double) caught / judged;
        assertTrue(rate >= atLeast, "the planted bug was caught in only " + caught + " of " + judged + " cases");
    }
}
