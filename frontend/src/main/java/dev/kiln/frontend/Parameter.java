package dev.kiln.frontend;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;

import java.util.function.LongFunction;

/**
 * A learnable tensor (or a buffer such as BatchNorm's running mean) of a module. Its value
 * is set by loading weights or by seeded initialisation.
 */
public final class Parameter {
    private final Shape shape;
    private final LongFunction<HostTensor> init;
    private HostTensor value;

    Parameter(Shape shape, LongFunction<HostTensor> init) {
        this.shape = shape;
        this.init = init;
    }

    public Shape shape() { return shape; }
    public boolean isSet() { return value != null; }
    public HostTensor value() { return value; }

    void set(HostTensor v) { this.value = v; }
    void initialize(long seed) { this.value = init.apply(seed); }
}
