package dev.kiln.backend.cpu;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Op;
import jdk.incubator.vector.FloatVector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One generated test case: a small graph, how to draw its inputs (standard normal times a
 * per-input scale, from any seed, so a second call can run on other data), and whether its
 * results also have to agree element by element ({@code elementwise}: ops without long
 * accumulations, see {@link CpuOpsProperties}).
 */
record OpCase(Graph graph, List<Input> inputs, boolean elementwise) {
    record Input(String name, Shape shape, float scale) {}

    Map<String, HostTensor> draw(long seed) {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        for (Input in : inputs) {
            HostTensor t = HostTensor.normal(in.shape(), seed++);
            for (int i = 0; i < t.size(); i++) t.data()[i] *= in.scale();
            m.put(in.name(), t);
        }
        return m;
    }

    /**
     * Builds a case: seeded choices of sizes (biased to 1, odd and prime sizes and to sizes just
     * around one and two vector lengths), inputs, random constants and nodes.
     */
    static final class Builder {
        static final int L = FloatVector.SPECIES_PREFERRED.length();
        private static final int[] SPECIAL = {1, 2, 3, 5, 7, 11, 13, L - 1, L, L + 1, 2 * L - 1, 2 * L, 2 * L + 1};

        final SplittableRandom r;
        /** The try number: generators cycle deterministic choices (e.g. activation × combine) through it. */
        final int index;
        private final GraphBuilder b;
        private final List<Input> inputs = new ArrayList<>();
        private int counter;
        boolean elementwise;

        Builder(String name, long seed, int index) {
            this.r = new SplittableRandom(seed);
            this.index = index;
            this.b = new GraphBuilder(name);
        }

        /** A size in [1, max]: half the time one of the special sizes that fit. */
        int dim(int max) {
            if (r.nextBoolean()) {
                for (int attempt = 0; attempt < 8; attempt++) {
                    int s = SPECIAL[r.nextInt(SPECIAL.length)];
                    if (s >= 1 && s <= max) return s;
                }
            }
            return 1 + r.nextInt(max);
        }

        int[] dims(int rank, int max) {
            int[] d = new int[rank];
            for (int i = 0; i < rank; i++) d[i] = dim(max);
            return d;
        }

        /** Uniform in [lo, hi]. */
        int between(int lo, int hi) { return lo + r.nextInt(hi - lo + 1); }

        boolean coin() { return r.nextBoolean(); }

        @SafeVarargs final <T> T pick(T... options) { return options[r.nextInt(options.length)]; }

        float pickScale(float... scales) { return scales[r.nextInt(scales.length)]; }

        String input(int... dims) { return input(1f, dims); }

        String input(float scale, int... dims) { return namedInput("x" + counter++, scale, dims); }

        String namedInput(String name, float scale, int... dims) {
            inputs.add(new Input(name, Shape.of(dims), scale));
            return b.input(name, TensorType.f32(dims));
        }

        /** A constant of standard-normal values times scale. */
        String weight(float scale, int... dims) {
            HostTensor t = HostTensor.normal(Shape.of(dims), r.nextLong());
            for (int i = 0; i < t.size(); i++) t.data()[i] *= scale;
            return b.constant("w" + counter++, t);
        }

        String weight(int... dims) { return weight(1f, dims); }

        String uniform(float lo, float hi, int... dims) {
            return b.constant("w" + counter++, HostTensor.uniform(Shape.of(dims), r.nextLong(), lo, hi));
        }

        /** An input or a constant, at random. */
        String operand(int... dims) { return coin() ? input(dims) : weight(dims); }

        String add(Op op, String... in) { return b.add("v" + counter++, op, List.of(in), ""); }

        String add(Op op, List<String> in) { return b.add("v" + counter++, op, in, ""); }

        TensorType type(String value) { return b.typeOf(value); }

        OpCase build(String... outputs) {
            for (String o : outputs) b.output(o);
            return new OpCase(b.build(), List.copyOf(inputs), elementwise);
        }
    }
}
