package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.backend.cpu.kernels.Templates;
import dev.kiln.ir.KilnException;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.util.TraceClassVisitor;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Specialises a kernel template with ASM: every {@code GETSTATIC} of a {@code P_*} parameter
 * field becomes a constant, the parameter fields are dropped, and the result is defined as a
 * hidden class (unloadable with its kernel). The template's own name stays in the bytes: the
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

    /** Specialises template with the given parameter values (Integer, Float or Boolean per P_ field). */
    public static Specialized specialize(Class<? extends Kernel> template, Map<String, Object> params) {
        byte[] original = TEMPLATE_BYTES.computeIfAbsent(template, Specializer::readBytes);
        ClassReader reader = new ClassReader(original);
        ClassWriter writer = new ClassWriter(reader, 0);
        String owner = reader.getClassName();
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override public FieldVisitor visitField(int access, String name, String desc, String sig, Object value) {
                return name.startsWith(PARAM_PREFIX) ? null : super.visitField(access, name, desc, sig, value);
            }

            @Override public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] ex) {
                MethodVisitor mv = super.visitMethod(access, name, desc, sig, ex);
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override public void visitFieldInsn(int opcode, String fowner, String fname, String fdesc) {
                        if (!fowner.equals(owner) || !fname.startsWith(PARAM_PREFIX)) {
                            super.visitFieldInsn(opcode, fowner, fname, fdesc);
                            return;
                        }
                        if (opcode != Opcodes.GETSTATIC)
                            throw new IllegalStateException(template.getSimpleName() + " writes parameter " + fname);
                        Object v = params.get(fname);
                        if (v == null) throw new IllegalArgumentException(template.getSimpleName() + " needs parameter " + fname);
                        pushConstant(mv, fdesc, v, fname);
                    }
                };
            }
        }, 0);
        byte[] bytes = writer.toByteArray();
        try {
            MethodHandles.Lookup hidden = Templates.lookup().defineHiddenClass(bytes, true);
            Kernel k = (Kernel) hidden.lookupClass().getDeclaredConstructor().newInstance();
            return new Specialized(k, bytes);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new KilnException("cannot define kernel from template " + template.getSimpleName() + ": " + e, e);
        }
    }

    private static void pushConstant(MethodVisitor mv, String desc, Object v, String name) {
        switch (desc) {
            case "I" -> {
                int i = v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).intValue();
                if (i >= -1 && i <= 5) mv.visitInsn(Opcodes.ICONST_0 + i);
                else if (i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE) mv.visitIntInsn(Opcodes.BIPUSH, i);
                else if (i >= Short.MIN_VALUE && i <= Short.MAX_VALUE) mv.visitIntInsn(Opcodes.SIPUSH, i);
                else mv.visitLdcInsn(i);
            }
            case "Z" -> mv.visitInsn(Boolean.TRUE.equals(v) ? Opcodes.ICONST_1 : Opcodes.ICONST_0);
            case "F" -> mv.visitLdcInsn(((Number) v).floatValue());
            case "D" -> mv.visitLdcInsn(((Number) v).doubleValue());
            case "J" -> mv.visitLdcInsn(((Number) v).longValue());
            default -> throw new IllegalStateException("parameter " + name + " has unsupported type " + desc);
        }
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
