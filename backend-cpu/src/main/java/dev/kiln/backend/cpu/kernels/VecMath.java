package dev.kiln.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Where a kernel template applies an element-wise function: {@code VecMath.apply(v, P_ACT)}
 * with an int parameter P_ACT that the lowering sets to an {@link dev.kiln.ir.op.Act}. The
 * specialiser gives each activation of a kernel a slot number (0 = none) and replaces every call
 * with that activation's expression, written inline (backend-cpu's {@code ExprInliner}): the
 * math of every activation is defined once, in ir, and no template knows which ones exist.
 *
 * <p>These bodies never run in a specialised kernel; they exist so templates compile.
 */
public final class VecMath {
    /** The slot of "no activation". */
    public static final int NONE = 0;

    private VecMath() {}

    public static FloatVector apply(FloatVector v, int act) {
        if (act == NONE) return v;
        throw new IllegalStateException("activation slot " + act + " reached an unspecialised template");
    }

    /**
     * Where a template applies its anchor's epilogue (an int parameter set to an
     * {@link dev.kiln.ir.op.Epilogue}): v is the biased value, extra the extra operand's element(s)
     * (null or 0 when the epilogue reads none). Replaced by the epilogue's code, inline.
     */
    public static FloatVector epilogue(FloatVector v, FloatVector extra, int epilogue) {
        throw new IllegalStateException("epilogue slot " + epilogue + " reached an unspecialised template");
    }

    public static float epilogue(float v, float extra, int epilogue) {
        throw new IllegalStateException("epilogue slot " + epilogue + " reached an unspecialised template");
    }

    public static float apply(float x, int act) {
        if (act == NONE) return x;
        throw new IllegalStateException("activation slot " + act + " reached an unspecialised template");
    }
}
