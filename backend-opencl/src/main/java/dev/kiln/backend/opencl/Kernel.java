package dev.kiln.backend.opencl;

import dev.kiln.ir.Node;

import java.util.List;

/**
 * One generated kernel and how to launch it. Its pointer parameters are in0..inK for the node's
 * operands (in order) and out for its result; {@code args} names the value bound to each.
 *
 * @param source the kernel function (plus any helpers it declares); the program prepends {@link Code#PRELUDE}
 * @param global NDRange global size (a multiple of local in every dimension)
 * @param local  work-group size, also declared in the source as reqd_work_group_size
 */
record Kernel(String name, Node node, String source, long[] global, long[] local, List<String> args) {
    /**
     * The arg name that binds a kernel's own error buffer (three ints, zeroed) instead of a value:
     * a kernel that can meet bad data at run time (a Gather index) reports it there, see IndexKernels.
     */
    static final String ERRORS = "!errors";

    int workGroupSize() {
        long n = 1;
        for (long l : local) n *= l;
        return (int) n;
    }

    /** A node that needs no launch (its result is another value's bytes): empty, so it is skipped everywhere. */
    static Kernel notLaunched(String name, Node node, String comment) {
        return new Kernel(name, node, comment, new long[]{0}, new long[]{1}, List.of());
    }

    boolean isEmpty() {
        for (long g : global) if (g == 0) return true;
        return false;
    }
}
