package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.backend.cpu.kernels.Templates;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.ScalarExpr;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.util.TraceClassVisitor;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Specialises a kernel template with ASM: every {@code GETSTATIC} of a {@code P_*} parameter
 * field becomes a constant, branches on those constants are resolved and the dead code deleted
 * ({@link ConstantFolder}), and the result is defined as a hidden class (unloadable with its kernel). The template's own name stays in the bytes: the
 * JVM resolves a hidden class's references to its own name to itself.
 */
public final class Specializer {
    private static final String PARAM_PREFIX = "P_";
    private static final Map<Class<?>, byte[]> TEMPLATE_BYTES = new ConcurrentHashMap<>();

    /** A specialised kernel and the bytecode it was defined from (for dumps). */
    public record Specialized(Kernel kernel, byte[] bytes) {
        public String text() {
            StringWriter w = new StringWriter();
            new ClassReader(bytes).accept(new TraceClassVisitor(new PrintWriter(w)), 0);
            return w.toString();
        }
    }

    private Specializer() {}

    /**
     * Specialises template with the given parameter values: Integer, Float or Boolean per P_
     * field, or an {@link Act} for an int activation slot (the template passes it to
     * {@code VecMath.apply}). Each distinct activation gets a slot number (0 for none) and its
     * expression is written inline wherever the template applies that slot.
     */
    public static Specialized specialize(Class<? extends Kernel> template, Map<String, Object> values) {
        List<ScalarExpr> activations = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        for (var e : values.entrySet()) {
            if (e.getValue() instanceof Act a) {
                int slot = 0;
                if (!a.isNone()) {
                    slot = activations.indexOf(a.expr()) + 1;
                    if (slot == 0) { activations.add(a.expr()); slot = activations.size(); }
                }
                params.put(e.getKey(), slot);
            } else {
                params.put(e.getKey(), e.getValue());
            }
        }
        byte[] original = TEMPLATE_BYTES.computeIfAbsent(template, Specializer::readBytes);
        ClassNode cls = new ClassNode();
        new ClassReader(original).accept(cls, 0);
        cls.fields.removeIf(f -> f.name.startsWith(PARAM_PREFIX));
        for (MethodNode m : cls.methods) {
            for (AbstractInsnNode insn : m.instructions.toArray()) {
                if (!(insn instanceof FieldInsnNode f) || !f.owner.equals(cls.name) || !f.name.startsWith(PARAM_PREFIX)) continue;
                if (f.getOpcode() != Opcodes.GETSTATIC)
                    throw new IllegalStateException(template.getSimpleName() + " writes parameter " + f.name);
                Object v = params.get(f.name);
                if (v == null) throw new IllegalArgumentException(template.getSimpleName() + " needs parameter " + f.name);
                m.instructions.set(insn, constant(f.desc, v, f.name));
            }
            ConstantFolder.fold(m, activations);
        }
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override protected String getCommonSuperClass(String a, String b) { return commonSuperClass(cls.name, template, a, b); }
        };
        cls.accept(writer);
        byte[] bytes = writer.toByteArray();
        try {
            MethodHandles.Lookup hidden = Templates.lookup().defineHiddenClass(bytes, true);
            Kernel k = (Kernel) hidden.lookupClass().getDeclaredConstructor().newInstance();
            return new Specialized(k, bytes);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new KilnException("cannot define kernel from template " + template.getSimpleName() + ": " + e, e);
        }
    }

    /** For frame computation; the class being written cannot be loaded by name, so it merges to Object. */
    private static String commonSuperClass(String self, Class<?> template, String a, String b) {
        if (a.equals(self) || b.equals(self)) return "java/lang/Object";
        try {
            ClassLoader loader = template.getClassLoader();
            Class<?> ca = Class.forName(a.replace('/', '.'), false, loader), cb = Class.forName(b.replace('/', '.'), false, loader);
            if (ca.isAssignableFrom(cb)) return a;
            if (cb.isAssignableFrom(ca)) return b;
            if (ca.isInterface() || cb.isInterface()) return "java/lang/Object";
            do ca = ca.getSuperclass(); while (!ca.isAssignableFrom(cb));
            return ca.getName().replace('.', '/');
        } catch (ClassNotFoundException e) {
            return "java/lang/Object";
        }
    }

    private static AbstractInsnNode constant(String desc, Object v, String name) {
        return switch (desc) {
            case "I", "Z" -> {
                int i = v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).intValue();
                if (i >= -1 && i <= 5) yield new InsnNode(Opcodes.ICONST_0 + i);
                if (i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE) yield new IntInsnNode(Opcodes.BIPUSH, i);
                if (i >= Short.MIN_VALUE && i <= Short.MAX_VALUE) yield new IntInsnNode(Opcodes.SIPUSH, i);
                yield new LdcInsnNode(i);
            }
            case "F" -> new LdcInsnNode(((Number) v).floatValue());
            case "D" -> new LdcInsnNode(((Number) v).doubleValue());
            case "J" -> new LdcInsnNode(((Number) v).longValue());
            default -> throw new IllegalStateException("parameter " + name + " has unsupported type " + desc);
        };
    }

    private static byte[] readBytes(Class<?> c) {
        String resource = c.getName().replace('.', '/') + ".class";
        try (InputStream in = c.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new KilnException("template class file not found: " + resource);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new KilnException("cannot read template " + resource, e);
        }
    }
}
