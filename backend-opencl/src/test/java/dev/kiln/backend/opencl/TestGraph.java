package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Op;

import java.util.List;

/** A few words for building small test graphs: inputs, seeded random constants, nodes, outputs. */
final class TestGraph {
    private final GraphBuilder b;
    private int constants;
    private long seed;

    TestGraph(String name) { this(name, name.hashCode()); }

    TestGraph(String name, long seed) {
        this.b = new GraphBuilder(name);
        this.seed = seed;
    }

    String input(int... dims) { return input("x" + constants++, dims); }

    String input(String name, int... dims) { return b.input(name, TensorType.f32(dims)); }

    /** A constant of standard-normal values. */
    String weight(int... dims) { return b.constant("w" + constants++, HostTensor.normal(Shape.of(dims), seed++)); }

    /** A constant of values in [lo, hi) (e.g. positive variances). */
    String uniform(float lo, float hi, int... dims) {
        return b.constant("w" + constants++, HostTensor.uniform(Shape.of(dims), seed++, lo, hi));
    }

    String op(Op op, String... inputs) { return b.add(op, List.of(inputs), ""); }

    /** A node that records where it came from (a DSL path or an ONNX node name), as imported graphs' nodes do. */
    String opFrom(String origin, Op op, String... inputs) { return b.add(op, List.of(inputs), origin); }

    TestGraph output(String... values) {
        for (String v : values) b.output(v);
        return this;
    }

    Graph build() { return b.build(); }

    /** Builds with these outputs. */
    Graph returning(String... values) { return output(values).build(); }
}
