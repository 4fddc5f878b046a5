package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.testing.RandomActs;
import dev.kiln.ir.op.Epilogue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * A property over random shapes and data, checked in one program: each try adds an independent
 * case (its own inputs, constants, nodes and output) to a single graph, so a property costs one
 * kernel build however many tries it has. Sizes are drawn from 1, small odd numbers and primes.
 * A failure names the seed, the try and the case's IR, so it can be replayed; the seed defaults
 * to a fixed value per property and can be changed with -Dkiln.seed=N to explore.
 */
final class RandomCases {
    static final int[] SIZES = {1, 1, 2, 3, 5, 7, 11, 13};
    static final int[] PRIMES = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};

    final SplittableRandom random;
    final TestGraph graph;
    final long seed;

    private RandomCases(String property, long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.graph = new TestGraph(property, seed);
    }

    int size() { return SIZES[random.nextInt(SIZES.length)]; }
    int prime() { return PRIMES[random.nextInt(PRIMES.length)]; }
    int between(int lo, int hi) { return lo + random.nextInt(hi - lo + 1); }
    boolean chance(int percent) { return random.nextInt(100) < percent; }
    <T> T pick(T[] options) { return options[random.nextInt(options.length)]; }

    /** Any activation safe on a computed value (so every one ir defines but those that jump). */
    Act activation() { return RandomActs.draw(random::nextInt, false, true); }
    /** A random epilogue: up to three activations and any valid joins of an extra operand. */
    Epilogue epilogue() { return dev.kiln.ir.testing.RandomEpilogues.draw(random::nextInt, true); }

    /**
     * Runs tries cases made by makeCase (which returns the case's output value) and checks every
     * output against the reference interpreter.
     */
    static void check(String property, long defaultSeed, int tries, BiFunction<RandomCases, Integer, String> makeCase) {
        long seed = Long.getLong("kiln.seed", defaultSeed);
        RandomCases r = new RandomCases(property, seed);
        List<String> outputs = new ArrayList<>();
        for (int i = 0; i < tries; i++) outputs.add(makeCase.apply(r, i));
        Graph g = r.graph.returning(outputs.toArray(String[]::new));
        Map<String, HostTensor> in = new LinkedHashMap<>();
        SplittableRandom data = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (Graph.Value v : g.inputs()) in.put(v.name(), HostTensor.normal(v.type().shape(), data.nextLong()));
        Map<String, HostTensor> expected = ReferenceInterpreter.run(g, in), actual;
        try (Executable e = OpenClTesting.compile(g)) {
            actual = e.run(in);
        }
        for (int i = 0; i < outputs.size(); i++) {
            String out = outputs.get(i);
            var node = g.producer(out);
            String what = property + " with seed " + seed + ", try " + i + ": " + IrPrinter.node(node) + " with operands "
                    + node.inputs().stream().map(g::typeOf).toList() + " (replay with -Dkiln.seed=" + seed + ")";
            OpenClTesting.assertClose(expected.get(out), actual.get(out), what);
        }
    }
}
