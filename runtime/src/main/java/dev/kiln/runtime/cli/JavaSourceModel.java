package dev.kiln.runtime.cli;

import dev.kiln.frontend.Module;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.runtime.Kiln;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A DSL model declared in a {@code .java} file, compiled in memory with the JDK's compiler
 * against Kiln's own class path and instantiated: the file's concrete {@link Module} subclass
 * with a no-argument constructor (the one named after the file if there are several).
 */
final class JavaSourceModel {
    private JavaSourceModel() {}

    static Module load(Path source) {
        if (!Files.isRegularFile(source)) throw new KilnException("model source " + source + ": no such file");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new KilnException("this Java runtime has no compiler (javax.tools): run Kiln on a JDK 25, not a JRE");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StandardJavaFileManager std = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8);
        InMemoryClasses classes = new InMemoryClasses(std);
        List<String> options = List.of("-classpath", classPath(), "-proc:none", "-implicit:none", "-g", "-nowarn");
        boolean ok = javac.getTask(new StringWriter(), classes, diagnostics, options, null, std.getJavaFileObjects(source.toFile())).call();
        if (!ok) throw compileError(source, diagnostics.getDiagnostics());
        return instantiate(source, pick(source, load(classes.bytes)));
    }

    private static KilnException compileError(Path source, List<Diagnostic<? extends JavaFileObject>> all) {
        List<Diagnostic<? extends JavaFileObject>> errors = all.stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR).toList();
        if (errors.isEmpty()) return new KilnException(source + ": the Java compiler failed without a diagnostic");
        Diagnostic<? extends JavaFileObject> d = errors.getFirst();
        String msg = d.getMessage(Locale.ROOT).lines().findFirst().orElse("");
        return new KilnException(source + ":" + d.getLineNumber() + ":" + d.getColumnNumber() + ": " + msg
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more error" + (errors.size() > 2 ? "s)" : ")") : ""));
    }

    /** Kiln's class path as this JVM sees it, plus the jars or directories Kiln's own classes came from. */
    static String classPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (Class<?> c : new Class<?>[]{Module.class, Graph.class, Kiln.class}) {
            CodeSource cs = c.getProtectionDomain().getCodeSource();
            if (cs == null || cs.getLocation() == null) continue;
            try {
                entries.add(Path.of(cs.getLocation().toURI()).toString());
            } catch (URISyntaxException | IllegalArgumentException ignored) {
                // not a file location: the java.class.path entries must do
            }
        }
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) if (!e.isBlank()) entries.add(e);
        return String.join(File.pathSeparator, entries);
    }

    private static List<Class<?>> load(Map<String, byte[]> bytes) {
        ClassLoader loader = new ClassLoader(JavaSourceModel.class.getClassLoader()) {
            @Override protected Class<?> findClass(String name) throws ClassNotFoundException {
                byte[] b = bytes.get(name);
                if (b == null) throw new ClassNotFoundException(name);
                return defineClass(name, b, 0, b.length);
            }
        };
        List<Class<?>> out = new ArrayList<>();
        for (String name : bytes.keySet()) {
            try {
                out.add(loader.loadClass(name));
            } catch (ClassNotFoundException | LinkageError e) {
                throw new KilnException("cannot load compiled class " + name + ": " + e, e);
            }
        }
        return out;
    }

    private static Class<?> pick(Path source, List<Class<?>> classes) {
        List<Class<?>> models = classes.stream().filter(c -> Module.class.isAssignableFrom(c)
                && !Modifier.isAbstract(c.getModifiers()) && noArgConstructor(c) != null).toList();
        String stem = source.getFileName().toString().replaceFirst("\\.java$", "");
        for (Class<?> c : models) if (c.getSimpleName().equals(stem)) return c;
        if (models.size() == 1) return models.getFirst();
        if (models.isEmpty())
            throw new KilnException(source + " declares no concrete subclass of dev.kiln.frontend.Module with a no-argument constructor");
        throw new KilnException(source + " declares several models " + models.stream().map(Class::getName).toList()
                + "; name the file after the one to compile");
    }

    static Constructor<?> noArgConstructor(Class<?> c) {
        try {
            return c.getDeclaredConstructor();
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /** Constructs the model class; a failing constructor is reported with its cause. */
    static Module instantiate(Object where, Class<?> c) {
        Constructor<?> ctor = noArgConstructor(c);
        if (ctor == null) throw new KilnException(where + ": " + c.getName() + " has no no-argument constructor");
        try {
            ctor.setAccessible(true);
            return (Module) ctor.newInstance();
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new KilnException(where + ": constructing " + c.getName() + " failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new KilnException(where + ": cannot construct " + c.getName() + ": " + e, e);
        }
    }

    /** Keeps the compiler's class files in memory, by binary name. */
    private static final class InMemoryClasses extends ForwardingJavaFileManager<StandardJavaFileManager> {
        final Map<String, byte[]> bytes = new LinkedHashMap<>();

        InMemoryClasses(StandardJavaFileManager std) { super(std); }

        @Override public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
            return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind) {
                @Override public OutputStream openOutputStream() {
                    return new ByteArrayOutputStream() {
                        @Override public void close() { bytes.put(className, toByteArray()); }
                    };
                }
            };
        }
    }
}
