package dev.kiln.ir;

import dev.kiln.ir.op.Op;

import java.util.List;

/**
 * One SSA definition: {@code name = op(inputs)} of the given type. Inputs name graph inputs,
 * constants or earlier nodes. {@code origin} is the DSL module path (or ONNX node name) that
 * produced it, so errors and reports can point back at the user's model.
 */
public record Node(String name, Op op, List<String> inputs, TensorType type, String origin) {
    public Node {
        inputs = List.copyOf(inputs);
        origin = origin == null ? "" : origin;
    }

    /** "conv2d %t3 (block1.depthwise)": how errors and reports name a node. */
    public String describe() {
        return op.mnemonic() + " %" + name + (origin.isEmpty() ? "" : " (" + origin + ")");
    }
}
