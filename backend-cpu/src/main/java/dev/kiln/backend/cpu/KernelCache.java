package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.ScalarExpr;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The kernels specialised so far in this JVM, by template and constants: a second executable that
 * needs the same specialisation (the same model loaded again, a model with the same layer shapes, a
 * JIT cache entry evicted and compiled again) reuses the class instead of defining a new one. That
 * saves the ASM work and, more, the JIT's: C2 compiles a hidden class's methods once, so a reused
 * kernel is fast from its first call. Kernels are stateless (their constants are baked into the
 * class), so sharing one instance between executables and threads is safe.
 *
 * <p>Values are weak: once no executable holds a kernel its hidden class can be unloaded, as before.
 */
final class KernelCache {
    /** What determines a specialisation's bytes: the template and every constant and expression folded into it. */
    record Key(Class<?> template, Map<String, Object> constants, List<ScalarExpr> activations, List<Epilogue> epilogues) {
        Key {
            constants = Map.copyOf(constants);
            activations = List.copyOf(activations);
            epilogues = List.copyOf(epilogues);
        }
    }

    private static final class Ref extends WeakReference<Kernel> {
        final Key key;
        final byte[] bytes;

        Ref(Key key, Kernel kernel, byte[] bytes, ReferenceQueue<Kernel> queue) {
            super(kernel, queue);
            this.key = key;
            this.bytes = bytes;
        }
    }

    private static final Map<Key, Ref> CACHE = new ConcurrentHashMap<>();
    private static final ReferenceQueue<Kernel> CLEARED = new ReferenceQueue<>();
    /** Off with -Dkiln.cpu.kernelCache=false, to measure what it saves. */
    private static final boolean ENABLED = !"false".equals(System.getProperty("kiln.cpu.kernelCache"));

    private KernelCache() {}

    /** The cached specialisation for key, or the one define makes (then cached). Two threads may both define one; either is fine. */
    static Specialiser.Specialised get(Key key, Supplier<Specialiser.Specialised> define) {
        if (!ENABLED) return define.get();
        purge();
        Ref r = CACHE.get(key);
        Kernel k = r == null ? null : r.get();
        if (k != null) return new Specialiser.Specialised(k, r.bytes);
        Specialiser.Specialised s = define.get();
        CACHE.put(key, new Ref(key, s.kernel(), s.bytes(), CLEARED));
        return s;
    }

    private static void purge() {
        for (java.lang.ref.Reference<? extends Kernel> r; (r = CLEARED.poll()) != null; ) {
            Ref ref = (Ref) r;
            CACHE.remove(ref.key, ref);
        }
    }
}
