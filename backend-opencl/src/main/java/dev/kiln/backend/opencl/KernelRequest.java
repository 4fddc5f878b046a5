package dev.kiln.backend.opencl;

import dev.kiln.ir.Node;

import java.util.ArrayList;
import java.util.List;

/**
 * What a kernel generator gets for one node: the kernel's name, the node, a view of each operand
 * (pointer in0, in1, ...) and of the result (pointer out), and the device's limits.
 */
record KernelRequest(String name, Node node, List<View> in, View out, DeviceLimits limits) {

    View in(int i) { return in.get(i); }

    /** The kernel's declaration, with its work-group size required so the compiler can specialise for it. */
    String header(long[] local) {
        StringBuilder b = new StringBuilder("__kernel __attribute__((reqd_work_group_size(");
        for (int i = 0; i < 3; i++) b.append(i > 0 ? ", " : "").append(i < local.length ? local[i] : 1);
        b.append(")))\nvoid ").append(name).append('(');
        for (int i = 0; i < in.size(); i++) b.append("global const float* restrict in").append(i).append(", ");
        return b.append("global float* restrict out)").toString();
    }

    /** The kernel launch record for a finished source. */
    Kernel kernel(String source, long[] global, long[] local) {
        List<String> args = new ArrayList<>(node.inputs());
        args.add(node.name());
        return new Kernel(name, node, source, global, local, args);
    }
}
