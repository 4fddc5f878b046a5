package dev.kiln.backend.cpu;

import dev.kiln.ir.op.Combine;

/** The kernels' P_COMBINE codes: explicit, not the enum's ordinals. */
final class Combines {
    private Combines() {}

    /** 0 none, 1 add before the activation, 2 multiply after it (as the templates test them). */
    static int code(Combine c) {
        return switch (c) {
            case NONE -> 0;
            case ADD -> 1;
            case MUL -> 2;
        };
    }
}
