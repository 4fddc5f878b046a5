package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.backend.cpu.kernels.Templates;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.ScalarExpr;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Specialises a kernel template with ASM: every {@code GETSTATIC} of a {@code P_*} parameter
 * field becomes a constant, branches on those constants are resolved and the dead code deleted
 * ({@link BytecodeFolder}), and the result is defined as a hidden class (unloadable with its
 * kernel). The template's own name stays in the bytes: the JVM resolves a hidden class's
 * references to its own name to itself. The rules for templates are in the kernels package's
 * documentation.
 *
 * <p>The values are checked before any bytecode is touched, since a wrong one would otherwise
 * compile to a kernel that quietly computes something else: every parameter the template reads
 * needs a value, every key must name a parameter it declares (placement components it does not
 * read excepted, see {@link Params}), and each value must fit its field: an int takes an Integer,
 * a Boolean (1 or 0), an {@link Act} or an {@link Epilogue}, a float a Float or a Double. What is
 * wrong with the values is an {@link IllegalArgumentException} naming the template and every
 * offending key; what is wrong with a template itself (it writes a parameter, declares one final
 * or of another type) an {@link IllegalStateException}.
 */
public final class Specialiser {
    private static final String PARAM_PREFIX = "P_";
    private static final Map<Class<?>, Template> TEMPLATES = new ConcurrentHashMap<>();

    /** A specialised kernel and the bytecode it was defined from (for dumps). */
    public record Specialised(Kernel kernel, byte[] bytes) {
        public String text() {
            StringWriter w = new StringWriter();
            new ClassReader(bytes).accept(new TraceClassVisitor(new PrintWriter(w)), 0);
            return w.toString();
        }
    }

    /** A template's class file, its parameters (field name to descriptor, sorted) and those its code reads. */
    private record Template(String name, byte[] bytes, Map<String, String> params, Set<String> read) {}

    private Specialiser() {}

    /**
     * Specialises template with the given parameter values. Each distinct activation gets a slot
     * number (0 for none) and its expression is written inline wherever the template applies that slot.
     */
    static Specialised specialise(Class<? extends Kernel> template, Params params) {
        Template t = TEMPLATES.computeIfAbsent(template, Specialiser::analyse);
        check(t, params.values(), params.unknownTo(t.params().keySet()));
        List<ScalarExpr> activations = new ArrayList<>();
        List<Epilogue> epilogues = new ArrayList<>();
        Map<String, Object> constants = new HashMap<>();
        for (var e : params.values().entrySet()) {
            if (!t.params().containsKey(e.getKey())) continue;
            constants.put(e.getKey(), switch (e.getValue()) {
                case Act a -> slot(a, activations);
                case Epilogue ep -> { epilogues.add(ep); yield epilogues.size(); }
                default -> e.getValue();
            });
        }
        return KernelCache.get(new KernelCache.Key(template, constants, activations, epilogues),
                () -> define(template, t, constants, activations, epilogues));
    }

    private static Specialised define(Class<? extends Kernel> template, Template t, Map<String, Object> constants,
                                      List<ScalarExpr> activations, List<Epilogue> epilogues) {
        ClassNode cls = new ClassNode();
        new ClassReader(t.bytes()).accept(cls, 0);
        cls.fields.removeIf(f -> t.params().containsKey(f.name));
        for (MethodNode m : cls.methods) {
            for (AbstractInsnNode insn : m.instructions.toArray())
                if (insn instanceof FieldInsnNode f && f.owner.equals(cls.name) && t.params().containsKey(f.name))
                    m.instructions.set(insn, constant(f.desc, constants.get(f.name)));
            BytecodeFolder.fold(m, activations, epilogues);
        }
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override protected String getCommonSuperClass(String a, String b) { return commonSuperClass(cls.name, template, a, b); }
        };
        cls.accept(writer);
        byte[] bytes = writer.toByteArray();
        try {
            MethodHandles.Lookup hidden = Templates.lookup().defineHiddenClass(bytes, true);
            Kernel k = (Kernel) hidden.lookupClass().getDeclaredConstructor().newInstance();
            return new Specialised(k, bytes);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new KilnException("cannot define kernel from template " + template.getSimpleName() + ": " + e, e);
        }
    }

    private static int slot(Act a, List<ScalarExpr> activations) {
        if (a.isNone()) return 0;
        int slot = activations.indexOf(a.expr()) + 1;
        if (slot == 0) {
            activations.add(a.expr());
            slot = activations.size();
        }
        return slot;
    }

    /** Reads a template once: its parameters, which of them it reads, and whether it keeps the rules. */
    private static Template analyse(Class<?> template) {
        String name = template.getSimpleName();
        byte[] bytes = readBytes(template);
        ClassNode cls = new ClassNode();
        new ClassReader(bytes).accept(cls, ClassReader.SKIP_DEBUG);
        Map<String, String> params = new TreeMap<>();
        for (FieldNode f : cls.fields) {
            if (!f.name.startsWith(PARAM_PREFIX)) continue;
            if ((f.access & Opcodes.ACC_STATIC) == 0)
                throw new IllegalStateException(name + " declares parameter " + f.name + " as an instance field; parameters are static");
            if ((f.access & Opcodes.ACC_FINAL) != 0)
                throw new IllegalStateException(name + " declares parameter " + f.name + " final; javac copies a final field's"
                        + " initial value into the code, so the value it is given would never be read");
            if (!f.desc.equals("I") && !f.desc.equals("F"))
                throw new IllegalStateException(name + " declares parameter " + f.name + " of type " + Type.getType(f.desc).getClassName()
                        + "; parameters are int or float");
            params.put(f.name, f.desc);
        }
        Set<String> read = new TreeSet<>();
        for (MethodNode m : cls.methods)
            for (AbstractInsnNode insn : m.instructions) {
                if (!(insn instanceof FieldInsnNode f) || !f.name.startsWith(PARAM_PREFIX)) continue;
                if (!f.owner.equals(cls.name))
                    throw new IllegalStateException(name + "." + m.name + " reads " + f.owner + "." + f.name
                            + ": a template may read only its own parameters (another class's are never specialised)");
                if (f.getOpcode() != Opcodes.GETSTATIC)
                    throw new IllegalStateException(name + " writes parameter " + f.name + " in " + m.name
                            + ": parameters get their values from the specialiser only (no initialiser, no assignment)");
                read.add(f.name);
            }
        return new Template(name, bytes, params, read);
    }

    private static void check(Template t, Map<String, Object> values, Set<String> unknown) {
        List<String> problems = new ArrayList<>();
        if (!unknown.isEmpty())
            problems.add("unknown parameter(s) " + String.join(", ", unknown) + " (its parameters: " + String.join(", ", t.params().keySet()) + ")");
        Set<String> missing = new TreeSet<>(t.read());
        missing.removeAll(values.keySet());
        if (!missing.isEmpty()) problems.add("no value for parameter(s) " + String.join(", ", missing));
        for (var e : values.entrySet()) {
            String desc = t.params().get(e.getKey());
            if (desc != null && !fits(desc, e.getValue()))
                problems.add("parameter " + e.getKey() + " is " + typeName(desc) + ", given " + e.getValue().getClass().getSimpleName() + " " + e.getValue());
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("template " + t.name() + ": " + String.join("; ", problems));
    }

    private static boolean fits(String desc, Object v) {
        return switch (desc) {
            case "I" -> v instanceof Integer || v instanceof Boolean || v instanceof Act || v instanceof Epilogue;
            case "F" -> v instanceof Float || v instanceof Double;
            default -> false;
        };
    }

    private static String typeName(String desc) {
        return switch (desc) {
            case "I" -> "an int (Integer, Boolean, Act or Epilogue)";
            default -> "a float (Float or Double)";
        };
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

    private static AbstractInsnNode constant(String desc, Object v) {
        if (desc.equals("F")) return new LdcInsnNode(((Number) v).floatValue());
        int i = v instanceof Boolean b ? (b ? 1 : 0) : (Integer) v;
        if (i >= -1 && i <= 5) return new InsnNode(Opcodes.ICONST_0 + i);
        if (i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE) return new IntInsnNode(Opcodes.BIPUSH, i);
        if (i >= Short.MIN_VALUE && i <= Short.MAX_VALUE) return new IntInsnNode(Opcodes.SIPUSH, i);
        return new LdcInsnNode(i);
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
