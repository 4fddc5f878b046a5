package dev.kiln.backend.cpu;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.ScalarExpr;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.util.Printer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The folder on small methods written as text: bytecode in, bytecode out. A line is an
 * instruction ({@code IFEQ name} jumps to the line {@code name:}); labels nothing jumps to are
 * not printed.
 */
class BytecodeFolderTest {
    static final List<ScalarExpr> NO_ACTIVATIONS = List.of();

    @Test
    void aConditionThatFailsFallsThroughAndTheJumpTargetGoes() {
        assertFolds("""
                ICONST_0
                IFNE other
                LDC 1.0f
                FRETURN
                other:
                LDC 2.0f
                FRETURN
                """, """
                LDC 1.0f
                FRETURN
                """);
    }

    @Test
    void aConditionThatHoldsJumpsAndTheFallThroughGoes() {
        assertFolds("""
                ICONST_1
                IFNE other
                LDC 1.0f
                FRETURN
                other:
                LDC 2.0f
                FRETURN
                """, """
                LDC 2.0f
                FRETURN
                """);
    }

    @Test
    void aComparisonOfTwoIntConstantsIsDecided() {
        assertFolds("""
                BIPUSH 7
                ICONST_3
                IF_ICMPLE small
                LDC 1.0f
                FRETURN
                small:
                LDC 2.0f
                FRETURN
                """, """
                LDC 1.0f
                FRETURN
                """);
    }

    @Test
    void aComparisonOfTwoFloatConstantsIsDecided() {
        assertFolds("""
                LDC 2.5f
                FCONST_1
                FCMPL
                IFLE notAbove
                LDC 1.0f
                FRETURN
                notAbove:
                LDC 2.0f
                FRETURN
                """, """
                LDC 1.0f
                FRETURN
                """);
    }

    @Test
    void aSwitchOnAConstantKeepsOnlyItsCase() {
        String method = """
                %s
                TABLESWITCH 0 zero one default other
                zero:
                LDC 10
                IRETURN
                one:
                LDC 11
                IRETURN
                other:
                LDC 12
                IRETURN
                """;
        assertFolds(method.formatted("ICONST_1"), """
                LDC 11
                IRETURN
                """);
        assertFolds(method.formatted("BIPUSH 9"), """
                LDC 12
                IRETURN
                """);
    }

    @Test
    void aBranchOnAValueItCannotKnowStays() {
        String method = """
                ILOAD 0
                IFEQ zero
                LDC 1.0f
                FRETURN
                zero:
                LDC 2.0f
                FRETURN
                """;
        assertFolds(method, method);
    }

    @Test
    void activationSlotZeroLeavesTheValueAsItIs() {
        assertFolds("""
                FLOAD 0
                ICONST_0
                INVOKESTATIC VecMath.apply (FI)F
                FRETURN
                """, """
                FLOAD 0
                FRETURN
                """);
    }

    @Test
    void anActivationSlotBecomesItsExpressionWithNoCallLeft() {
        MethodNode m = assemble("""
                FLOAD 0
                ICONST_1
                INVOKESTATIC VecMath.apply (FI)F
                FRETURN
                """);
        BytecodeFolder.fold(m, List.of(Act.RELU.expr()), List.of());
        String text = text(m);
        assertTrue(text.startsWith("FLOAD 0\n") && text.endsWith("FRETURN\n"), text);
        assertTrue(!text.contains("INVOKESTATIC") && text.lines().count() > 3, text);
    }

    @Test
    void anActivationSlotThatIsNotAConstantIsAnError() {
        MethodNode m = assemble("""
                FLOAD 0
                ILOAD 1
                INVOKESTATIC VecMath.apply (FI)F
                FRETURN
                """);
        var e = assertThrows(IllegalStateException.class, () -> BytecodeFolder.fold(m, NO_ACTIVATIONS, List.of()));
        assertEquals("m: VecMath.apply needs a constant activation slot (a P_ parameter given an Act), got a computed value", e.getMessage());
    }

    @Test
    void anActivationSlotWithNoActivationIsAnError() {
        MethodNode m = assemble("""
                FLOAD 0
                ICONST_2
                INVOKESTATIC VecMath.apply (FI)F
                FRETURN
                """);
        var e = assertThrows(IllegalStateException.class, () -> BytecodeFolder.fold(m, List.of(Act.RELU.expr()), List.of()));
        assertTrue(e.getMessage().endsWith("got slot 2 of 1"), e.getMessage());
    }

    static void assertFolds(String before, String after) {
        MethodNode m = assemble(before);
        BytecodeFolder.fold(m, NO_ACTIVATIONS, List.of());
        assertEquals(after, text(m));
    }

    static MethodNode assemble(String text) {
        MethodNode m = new MethodNode(Opcodes.ACC_STATIC, "m", "(FI)F", null, null);
        m.maxLocals = 2;
        Map<String, LabelNode> labels = new HashMap<>();
        for (String line : text.strip().split("\n")) {
            String[] w = line.strip().split(" +");
            if (w[0].endsWith(":")) {
                m.instructions.add(label(labels, w[0].substring(0, w[0].length() - 1)));
                continue;
            }
            int op = Arrays.asList(Printer.OPCODES).indexOf(w[0]);
            m.instructions.add(switch (op) {
                case Opcodes.BIPUSH, Opcodes.SIPUSH -> new IntInsnNode(op, Integer.parseInt(w[1]));
                case Opcodes.LDC -> new LdcInsnNode(w[1].endsWith("f") ? (Object) Float.parseFloat(w[1]) : Integer.parseInt(w[1]));
                case Opcodes.ILOAD, Opcodes.FLOAD, Opcodes.ALOAD, Opcodes.ISTORE, Opcodes.FSTORE, Opcodes.ASTORE -> new VarInsnNode(op, Integer.parseInt(w[1]));
                case Opcodes.INVOKESTATIC -> new MethodInsnNode(op, "dev/kiln/backend/cpu/kernels/" + w[1].split("\\.")[0], w[1].split("\\.")[1], w[2]);
                case Opcodes.TABLESWITCH -> {
                    int min = Integer.parseInt(w[1]), n = w.length - 4;
                    LabelNode[] cases = new LabelNode[n];
                    for (int i = 0; i < n; i++) cases[i] = label(labels, w[2 + i]);
                    yield new TableSwitchInsnNode(min, min + n - 1, label(labels, w[w.length - 1]), cases);
                }
                default -> op >= Opcodes.IFEQ && op <= Opcodes.GOTO ? new JumpInsnNode(op, label(labels, w[1]))
                        : new InsnNode(op);
            });
        }
        return m;
    }

    /** A label that keeps its name from the text, so the folded method prints with the same names. */
    static final class Named extends LabelNode {
        final String name;
        Named(String name) { this.name = name; }
    }

    static LabelNode label(Map<String, LabelNode> labels, String name) { return labels.computeIfAbsent(name, Named::new); }

    /** The method as assemble reads it; a label is printed only if something jumps to it. */
    static String text(MethodNode m) {
        Set<LabelNode> targets = new HashSet<>();
        for (AbstractInsnNode i : m.instructions) {
            if (i instanceof JumpInsnNode j) targets.add(j.label);
            if (i instanceof TableSwitchInsnNode t) {
                targets.addAll(t.labels);
                targets.add(t.dflt);
            }
        }
        List<String> lines = new ArrayList<>();
        for (AbstractInsnNode i : m.instructions) {
            if (i instanceof LabelNode l && targets.contains(l)) lines.add(name(l) + ":");
            if (i.getOpcode() < 0) continue;
            String op = Printer.OPCODES[i.getOpcode()];
            lines.add(switch (i) {
                case IntInsnNode n -> op + " " + n.operand;
                case LdcInsnNode l -> op + " " + l.cst + (l.cst instanceof Float ? "f" : "");
                case VarInsnNode v -> op + " " + v.var;
                case JumpInsnNode j -> op + " " + name(j.label);
                case MethodInsnNode c -> op + " " + c.owner.substring(c.owner.lastIndexOf('/') + 1) + "." + c.name + " " + c.desc;
                case TableSwitchInsnNode t -> op + " " + t.min + " " + String.join(" ", t.labels.stream().map(BytecodeFolderTest::name).toList())
                        + " default " + name(t.dflt);
                default -> op;
            });
        }
        return String.join("\n", lines) + "\n";
    }

    static String name(LabelNode l) { return l instanceof Named n ? n.name : "?"; }
}
