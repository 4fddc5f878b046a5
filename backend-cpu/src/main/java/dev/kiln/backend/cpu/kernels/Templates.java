package dev.kiln.backend.cpu.kernels;

import java.lang.invoke.MethodHandles;

/**
 * Kernel templates live in this package: plain Java classes whose {@code static} fields named
 * {@code P_*} are shape parameters. The specializer copies a template's bytecode, turns every
 * read of a parameter into a constant and defines the copy as a hidden class here, so C2
 * compiles each kernel with its loop bounds and strides known.
 */
public final class Templates {
    private Templates() {}

    /** The lookup hidden kernel classes are defined through (they must share this package). */
    public static MethodHandles.Lookup lookup() { return MethodHandles.lookup(); }
}
