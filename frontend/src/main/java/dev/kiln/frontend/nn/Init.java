package dev.kiln.frontend.nn;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.util.function.LongFunction;

/** Seeded initialisers with PyTorch's default ranges. */
final class Init {
    private Init() {}

    /** U(−1/√fanIn, 1/√fanIn): PyTorch's default for conv/linear weights (kaiming_uniform, a=√5) and biases. */
    static LongFunction<HostTensor> fanIn(Shape shape, int fanIn) {
        float bound = (float) (1 / Math.sqrt(Math.max(1, fanIn)));
        return seed -> HostTensor.uniform(shape, seed, -bound, bound);
    }

    static LongFunction<HostTensor> constant(Shape shape, float value) {
        return seed -> HostTensor.full(shape, value);
    }

    /** For BatchNorm statistics of an untrained model: values near the identity, but not exactly it, so folding is exercised. */
    static LongFunction<HostTensor> around(Shape shape, float centre, float spread) {
        return seed -> HostTensor.uniform(shape, seed, centre - spread, centre + spread);
    }
}
