package dev.kiln.runtime;

import dev.kiln.ir.Backend;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where a model runs: a backend by name ("cpu", "opencl") plus that backend's options
 * (e.g. "threads", "dump-code", "device"). The backend itself is found through
 * {@link Backends#discovered()} when the target is used, unless a backend instance was given
 * with {@link #of(Backend)}. Immutable.
 */
public final class Target {
    private final String backend;
    private final Map<String, String> options;
    private final Backend instance;

    private Target(String backend, Map<String, String> options, Backend instance) {
        if (backend == null || backend.isBlank()) throw new IllegalArgumentException("a target needs a backend name");
        this.backend = backend;
        this.options = Collections.unmodifiableMap(new TreeMap<>(options));
        this.instance = instance;
    }

    /** JVM bytecode using the Vector API, on every machine. */
    public static Target cpu() { return named("cpu"); }

    /** OpenCL kernels through JOCL; needs an OpenCL platform (e.g. PoCL). */
    public static Target opencl() { return named("opencl"); }

    /** A backend by its {@link Backend#name()}; whether it exists is checked when the target is used. */
    public static Target named(String backend) { return new Target(backend, Map.of(), null); }

    /** A target bound to this backend instance (not looked up by name). */
    public static Target of(Backend backend) { return new Target(backend.name(), Map.of(), backend); }

    /** This target with one more backend option. */
    public Target withOption(String key, String value) {
        Map<String, String> o = new TreeMap<>(options);
        o.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
        return new Target(backend, o, instance);
    }

    /** This target with the given options added (later values win). */
    public Target withOptions(Map<String, String> more) {
        Map<String, String> o = new TreeMap<>(options);
        o.putAll(more);
        return new Target(backend, o, instance);
    }

    public String backendName() { return backend; }
    public Map<String, String> options() { return options; }

    /** The backend this target names; a KilnException listing the known backends if there is none. */
    public Backend backend() { return instance != null ? instance : Backends.discovered().require(backend); }

    @Override public boolean equals(Object o) {
        return o instanceof Target t && backend.equals(t.backend) && options.equals(t.options) && instance == t.instance;
    }

    @Override public int hashCode() { return backend.hashCode() * 31 + options.hashCode(); }

    @Override public String toString() { return options.isEmpty() ? backend : backend + " " + options; }
}
