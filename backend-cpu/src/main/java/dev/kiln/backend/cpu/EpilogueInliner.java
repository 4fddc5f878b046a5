package dev.kiln.backend.cpu;

import dev.kiln.ir.op.Epilogue;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * The one place the CPU backend turns an {@link Epilogue} into code: what replaces a template's
 * {@code VecMath.epilogue(v, extra, P_EPI)}. The value and the extra operand (a FloatVector, or a
 * float in scalar tails; null or 0 when the epilogue reads none) are on the stack; the extra is
 * parked in a local, then each stage runs on the value in order — a run of activations as one
 * inlined expression ({@link ExprInliner}), an add or mul of the extra at its place — and the
 * result is left on the stack. Every kernel with an epilogue (GEMM, conv, depthwise, dw+pw,
 * attention) gets the same code from the same value; the templates only say where it goes.
 */
final class EpilogueInliner {
    private static final String FV = "jdk/incubator/vector/FloatVector", VEC = "Ljdk/incubator/vector/Vector;";

    private EpilogueInliner() {}

    /** The instructions that replace the call; locals from firstFreeLocal on, how many in localsUsed[0]. */
    static InsnList inline(Epilogue epilogue, boolean vector, int firstFreeLocal, int[] localsUsed) {
        InsnList out = new InsnList();
        int extra = firstFreeLocal, next = firstFreeLocal + 1;
        out.add(new VarInsnNode(vector ? Opcodes.ASTORE : Opcodes.FSTORE, extra));
        for (Epilogue.Stage s : epilogue.stages()) {
            switch (s) {
                case Epilogue.Apply a -> {
                    int[] used = new int[1];
                    out.add(ExprInliner.inline(a.f(), vector, next, used));
                    next += used[0];
                }
                case Epilogue.Join j -> {
                    out.add(new VarInsnNode(vector ? Opcodes.ALOAD : Opcodes.FLOAD, extra));
                    boolean add = j.fn() == dev.kiln.ir.op.ScalarExpr.Fn2.ADD;
                    if (vector) out.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, FV, add ? "add" : "mul", "(" + VEC + ")L" + FV + ";", false));
                    else out.add(new InsnNode(add ? Opcodes.FADD : Opcodes.FMUL));
                }
            }
        }
        localsUsed[0] = next - firstFreeLocal;
        return out;
    }
}
