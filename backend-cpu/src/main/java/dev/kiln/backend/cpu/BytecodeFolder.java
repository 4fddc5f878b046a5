package dev.kiln.backend.cpu;

import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.ScalarExpr;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FrameNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.TryCatchBlockNode;

import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;

/**
 * Partial evaluation of a specialised template method: branches and switches on constants
 * (the former shape parameters) are resolved, and the code they make unreachable is deleted.
 * This matters for speed, not only size: C2 inlines by bytecode size, and a helper that still
 * carried the dead paths of every epilogue variant was too big to inline, which boxed the
 * vectors passed to it.
 */
final class BytecodeFolder {
    private BytecodeFolder() {}

    static void fold(MethodNode m, List<ScalarExpr> activations, List<Epilogue> epilogues) {
        boolean changed = true;
        while (changed) changed = foldBranches(m.instructions);
        removeUnreachable(m);
        inlineActivations(m, activations);
        inlineEpilogues(m, epilogues);
        pruneLocals(m);
    }

    /**
     * The debug table of locals after the code under it changed: a local whose scope now starts past
     * the last instruction (a method cut short by a folded early return) goes, and so does a second
     * entry of a local that now covers the same code as the first (javac writes one per branch that
     * assigns it; folding deleted what lay between). The JVM rejects either.
     */
    private static void pruneLocals(MethodNode m) {
        if (m.localVariables == null) return;
        java.util.Set<String> seen = new java.util.HashSet<>();
        m.localVariables.removeIf(v -> nextReal(v.start) == null
                || !seen.add(v.name + "/" + v.index + "@" + System.identityHashCode(nextReal(v.start)) + "-" + System.identityHashCode(nextReal(v.end))));
    }

    /**
     * {@code VecMath.epilogue(v, extra, SLOT)} with a constant SLOT becomes that epilogue's code,
     * written inline ({@link EpilogueInliner}); slot 0 is no epilogue given, an error.
     */
    private static void inlineEpilogues(MethodNode m, List<Epilogue> epilogues) {
        InsnList code = m.instructions;
        for (AbstractInsnNode insn : code.toArray()) {
            if (!(insn instanceof MethodInsnNode call) || !call.owner.equals(VEC_MATH) || !call.name.equals("epilogue")) continue;
            AbstractInsnNode slotInsn = previous(insn);
            Integer slot = intValue(slotInsn);
            if (slot == null || slot < 1 || slot > epilogues.size())
                throw new IllegalStateException(m.name + ": VecMath.epilogue needs a constant epilogue slot (a P_ parameter given an Epilogue), got "
                        + (slot == null ? "a computed value" : "slot " + slot + " of " + epilogues.size()));
            code.remove(slotInsn);
            int[] used = new int[1];
            code.insertBefore(insn, EpilogueInliner.inline(epilogues.get(slot - 1), call.desc.startsWith("(L"), m.maxLocals, used));
            m.maxLocals += used[0];
            code.remove(insn);
        }
    }

    private static final String VEC_MATH = "dev/kiln/backend/cpu/kernels/VecMath";

    /**
     * {@code VecMath.apply(v, SLOT)} with a constant SLOT becomes that activation's expression,
     * written inline ({@link ExprInliner}); slot 0, no activation, leaves v as it is.
     */
    private static void inlineActivations(MethodNode m, List<ScalarExpr> activations) {
        InsnList code = m.instructions;
        for (AbstractInsnNode insn : code.toArray()) {
            if (!(insn instanceof MethodInsnNode call) || !call.owner.equals(VEC_MATH) || !call.name.equals("apply")) continue;
            AbstractInsnNode slotInsn = previous(insn);
            Integer slot = intValue(slotInsn);
            if (slot == null || slot < 0 || slot > activations.size())
                throw new IllegalStateException(m.name + ": VecMath.apply needs a constant activation slot (a P_ parameter given an Act), got "
                        + (slot == null ? "a computed value" : "slot " + slot + " of " + activations.size()));
            code.remove(slotInsn);
            if (slot > 0) {
                int[] used = new int[1];
                code.insertBefore(insn, ExprInliner.inline(activations.get(slot - 1), call.desc.startsWith("(L"), m.maxLocals, used));
                m.maxLocals += used[0];
            }
            code.remove(insn);
        }
    }

    /** One sweep of the rules; true if anything changed. */
    private static boolean foldBranches(InsnList code) {
        boolean changed = false;
        for (AbstractInsnNode insn = code.getFirst(); insn != null; ) {
            AbstractInsnNode next = insn.getNext();
            int op = insn.getOpcode();
            if (op >= Opcodes.IFEQ && op <= Opcodes.IFLE) {
                AbstractInsnNode a = previous(insn);
                Integer v = intValue(a);
                if (v != null) {
                    resolve(code, insn, holds(op, v, 0), a);
                    changed = true;
                }
            } else if (op >= Opcodes.IF_ICMPEQ && op <= Opcodes.IF_ICMPLE) {
                AbstractInsnNode b = previous(insn), a = b == null ? null : previous(b);
                Integer vb = intValue(b), va = intValue(a);
                if (va != null && vb != null) {
                    resolve(code, insn, holds(op - Opcodes.IF_ICMPEQ + Opcodes.IFEQ, va, vb), a, b);
                    changed = true;
                }
            } else if (op == Opcodes.FCMPL || op == Opcodes.FCMPG) {
                AbstractInsnNode b = previous(insn), a = b == null ? null : previous(b);
                Float vb = floatValue(b), va = floatValue(a);
                if (va != null && vb != null) {
                    float x = va, y = vb;
                    int r = Float.isNaN(x) || Float.isNaN(y) ? (op == Opcodes.FCMPL ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
                    code.insertBefore(insn, new IntInsnNode(Opcodes.BIPUSH, r));
                    code.remove(a);
                    code.remove(b);
                    code.remove(insn);
                    changed = true;
                }
            } else if (insn instanceof TableSwitchInsnNode ts) {
                Integer v = intValue(previous(insn));
                if (v != null) {
                    LabelNode target = v >= ts.min && v <= ts.max ? ts.labels.get(v - ts.min) : ts.dflt;
                    code.remove(previous(insn));
                    code.set(insn, new JumpInsnNode(Opcodes.GOTO, target));
                    changed = true;
                }
            } else if (insn instanceof LookupSwitchInsnNode ls) {
                Integer v = intValue(previous(insn));
                if (v != null) {
                    int i = ls.keys.indexOf(v);
                    LabelNode target = i >= 0 ? ls.labels.get(i) : ls.dflt;
                    code.remove(previous(insn));
                    code.set(insn, new JumpInsnNode(Opcodes.GOTO, target));
                    changed = true;
                }
            }
            insn = next;
        }
        return changed;
    }

    /** Replaces a conditional jump whose outcome is known: a GOTO if taken, nothing if not; its constant operands go. */
    private static void resolve(InsnList code, AbstractInsnNode jump, boolean taken, AbstractInsnNode... operands) {
        for (AbstractInsnNode o : operands) code.remove(o);
        if (taken) code.set(jump, new JumpInsnNode(Opcodes.GOTO, ((JumpInsnNode) jump).label));
        else code.remove(jump);
    }

    private static boolean holds(int ifOpcode, int a, int b) {
        return switch (ifOpcode) {
            case Opcodes.IFEQ -> a == b;
            case Opcodes.IFNE -> a != b;
            case Opcodes.IFLT -> a < b;
            case Opcodes.IFGE -> a >= b;
            case Opcodes.IFGT -> a > b;
            default -> a <= b;
        };
    }

    /** The instruction before, skipping line numbers and frames but not labels (a label may be a jump target). */
    private static AbstractInsnNode previous(AbstractInsnNode insn) {
        AbstractInsnNode p = insn.getPrevious();
        while (p instanceof LineNumberNode || p instanceof FrameNode) p = p.getPrevious();
        return p;
    }

    private static Integer intValue(AbstractInsnNode n) {
        if (n == null) return null;
        int op = n.getOpcode();
        if (op >= Opcodes.ICONST_M1 && op <= Opcodes.ICONST_5) return op - Opcodes.ICONST_0;
        if (op == Opcodes.BIPUSH || op == Opcodes.SIPUSH) return ((IntInsnNode) n).operand;
        if (n instanceof LdcInsnNode l && l.cst instanceof Integer i) return i;
        return null;
    }

    private static Float floatValue(AbstractInsnNode n) {
        if (n == null) return null;
        int op = n.getOpcode();
        if (op >= Opcodes.FCONST_0 && op <= Opcodes.FCONST_2) return (float) (op - Opcodes.FCONST_0);
        if (n instanceof LdcInsnNode l && l.cst instanceof Float f) return f;
        return null;
    }

    /** Deletes instructions no path from the entry reaches; frames are recomputed by the writer. */
    private static void removeUnreachable(MethodNode m) {
        InsnList code = m.instructions;
        AbstractInsnNode[] insns = code.toArray();
        BitSet reached = new BitSet(insns.length);
        Deque<Integer> work = new ArrayDeque<>();
        work.push(0);
        boolean grew = true;
        while (grew) {
            while (!work.isEmpty()) {
                int i = work.pop();
                if (i >= insns.length || reached.get(i)) continue;
                reached.set(i);
                AbstractInsnNode n = insns[i];
                int op = n.getOpcode();
                if (n instanceof JumpInsnNode j) work.push(code.indexOf(j.label));
                if (n instanceof TableSwitchInsnNode t) { work.push(code.indexOf(t.dflt)); t.labels.forEach(l -> work.push(code.indexOf(l))); }
                if (n instanceof LookupSwitchInsnNode t) { work.push(code.indexOf(t.dflt)); t.labels.forEach(l -> work.push(code.indexOf(l))); }
                boolean ends = op == Opcodes.GOTO || op == Opcodes.ATHROW || (op >= Opcodes.IRETURN && op <= Opcodes.RETURN)
                        || n instanceof TableSwitchInsnNode || n instanceof LookupSwitchInsnNode;
                if (!ends) work.push(i + 1);
            }
            grew = false;
            for (TryCatchBlockNode tc : m.tryCatchBlocks) {
                int h = code.indexOf(tc.handler);
                if (reached.get(h)) continue;
                int from = code.indexOf(tc.start), to = code.indexOf(tc.end);
                if (!reached.get(from, to).isEmpty()) { work.push(h); grew = true; }
            }
        }
        for (int i = 0; i < insns.length; i++) {
            AbstractInsnNode n = insns[i];
            if (n instanceof FrameNode || (!reached.get(i) && !(n instanceof LabelNode) && !(n instanceof LineNumberNode))) code.remove(n);
        }
        // a line number whose code was all deleted would point past the end of the method
        for (AbstractInsnNode n : code.toArray())
            if (n instanceof LineNumberNode ln && nextReal(ln.start) == null) code.remove(n);
        m.tryCatchBlocks.removeIf(tc -> code.indexOf(tc.start) == code.indexOf(tc.end) || !hasCode(tc));
        // a GOTO to the very next instruction is a leftover of a folded branch
        for (AbstractInsnNode n = code.getFirst(); n != null; ) {
            AbstractInsnNode next = n.getNext();
            if (n.getOpcode() == Opcodes.GOTO && nextReal(n) == nextReal(((JumpInsnNode) n).label)) code.remove(n);
            n = next;
        }
    }

    private static boolean hasCode(TryCatchBlockNode tc) {
        for (AbstractInsnNode n = tc.start; n != null && n != tc.end; n = n.getNext()) if (n.getOpcode() >= 0) return true;
        return false;
    }

    private static AbstractInsnNode nextReal(AbstractInsnNode n) {
        AbstractInsnNode p = n.getNext();
        while (p != null && p.getOpcode() < 0) p = p.getNext();
        return p;
    }
}
