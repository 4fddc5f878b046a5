package dev.kiln.backend.cpu.kernels;

import java.lang.invoke.MethodHandles;

/**
 * Where specialised kernels are defined: as hidden classes in this package, so C2 compiles each
 * with its loop bounds and strides known. The rules for templates are in the package documentation.
 */
public final class Templates {
    private Templates() {}

    /** The lookup hidden kernel classes are defined through (they must share this package). */
    public static MethodHandles.Lookup lookup() { return MethodHandles.lookup(); }
}
