package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/** Same elements in row-major order, new dimensions (fully resolved: no −1). Flatten is a Reshape. */
public record Reshape(Ints shape) implements Op {
    public Reshape {
        if (shape.stream().anyMatch(d -> d <= 0)) throw new IllegalArgumentException("reshape target must be fully resolved: " + shape);
    }

    /** The same, from an array (copied). */
    public Reshape(int... shape) { this(Ints.of(shape)); }

    @Override public TensorType inferType(List<TensorType> in) {
        Checks.arity(this, in, 1, 1);
        Shape to = Shape.of(shape.toArray());
        Checks.require(to.size() == in.get(0).shape().size(), this,
                "cannot reshape " + in.get(0) + " (" + in.get(0).shape().size() + " elements) to " + to + " (" + to.size() + ")");
        return TensorType.f32(shape.toArray());
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        return in.get(0).reshape(inferType(List.of(in.get(0).type())).shape());
    }
}
