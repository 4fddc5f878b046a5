package dev.kiln.runtime;

import dev.kiln.ir.Backend;
import dev.kiln.ir.KilnException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The backends a Kiln process can compile for, by name. {@link #discovered()} holds those found
 * through {@link ServiceLoader} on the class path; {@link #of} builds a fixed set (tests, embedders).
 */
public final class Backends {
    private static volatile Backends discovered;
    private final List<Backend> backends;

    private Backends(List<Backend> backends) { this.backends = List.copyOf(backends); }

    /** Every backend on the class path (loaded once per JVM). */
    public static Backends discovered() {
        Backends b = discovered;
        if (b == null) {
            synchronized (Backends.class) {
                if (discovered == null) {
                    List<Backend> found = new ArrayList<>();
                    ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(found::add);
                    discovered = new Backends(found);
                }
                b = discovered;
            }
        }
        return b;
    }

    public static Backends of(Backend... backends) { return new Backends(List.of(backends)); }

    public List<Backend> all() { return backends; }

    public List<String> names() { return backends.stream().map(Backend::name).toList(); }

    public Optional<Backend> find(String name) { return backends.stream().filter(b -> b.name().equals(name)).findFirst(); }

    /** The backend of that name, or a KilnException naming the ones this build has. */
    public Backend require(String name) {
        return find(name).orElseThrow(() -> new KilnException("unknown backend '" + name + "'; this build of Kiln has " + names()));
    }

    /** A target bound to the named backend of this set. */
    public Target target(String name) { return Target.of(require(name)); }
}
