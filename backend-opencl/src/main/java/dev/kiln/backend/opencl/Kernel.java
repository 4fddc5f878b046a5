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
 * @param launches how many times the kernel is enqueued back to back (1 for most; a recurrent op
 *               spread over work-groups launches once per time step, see SteppedRecurrentKernel)
 * @param scratchFloats working memory of its own that a run keeps between launches (bound by {@link #SCRATCH})
 */
record Kernel(String name, Node node, String source, long[] global, long[] local, List<String> args, int launches, long scratchFloats) {
    Kernel(String name, Node node, String source, long[] global, long[] local, List<String> args) {
        this(name, node, source, global, local, args, 1, 0);
    }

    /** The arg name that binds the kernel's scratch buffer (scratchFloats floats, per run). */
    static final String SCRATCH = "!scratch";
    /** The arg name that binds the launch index, an int from 0 to launches - 1. */
    static final String LAUNCH = "!launch";

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
