package dev.kiln.backend.cpu;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A template's parameter values, built fluently: {@code Params.of().put("N", 4).placement("X", p)}.
 * A value is an int, a boolean, a float (a double is narrowed when it becomes a constant) or an
 * {@link Act} for an activation slot or an {@link Epilogue} for an epilogue slot; the
 * {@link Specialiser} checks each against its field.
 *
 * <p>Every key must name a parameter the template declares, with one exception. A placement
 * puts all ten components of a 4-d view (SLOT, OFF, S0..S3, D0..D3) so that a lowering need not
 * know which of them a template's loops happen to read (an element-wise kernel walks the last
 * axis with unit stride and never reads _S3; its dims come as D1..D3 of the result). Params
 * remembers which keys a placement put, and those may go unread, but only if the template
 * takes that placement at all: it declares {@code P_<prefix>_SLOT}. So a misspelt key, a stale
 * one, or a placement for a buffer the template does not have is still an error. A key put
 * explicitly after a placement counts as explicit.
 */
final class Params {
    private static final String PREFIX = "P_";

    private final Map<String, Object> values = new LinkedHashMap<>();
    /** Each key a placement put, to the SLOT key of that placement. */
    private final Map<String, String> placementSlot = new LinkedHashMap<>();

    static Params of() { return new Params(); }

    Params put(String name, int value) { return set(name, value); }
    Params put(String name, boolean value) { return set(name, value); }
    Params put(String name, float value) { return set(name, value); }
    Params put(String name, double value) { return set(name, value); }
    Params put(String name, Act value) { return set(name, Objects.requireNonNull(value, name)); }

    /**
     * An anchor's epilogue, as every template with one takes it: P_EPI, where its
     * {@code VecMath.epilogue} hook applies it, and P_EXTRA, 1 when it reads the extra operand
     * (so the template loads it only then).
     */
    Params epilogue(Epilogue e) {
        set("EXTRA", e.hasExtra());
        return set("EPI", Objects.requireNonNull(e, "epilogue"));
    }

    private Params set(String name, Object value) {
        String key = key(name);
        values.put(key, value);
        placementSlot.remove(key);
        return this;
    }

    /** P_{prefix}_SLOT, _OFF and, for each of the 4 axes (as 4-d), _S0.._S3 and _D0.._D3. */
    Params placement(String prefix, Placement p) {
        Placement q = p.as4d();
        String slot = key(prefix + "_SLOT");
        values.put(slot, q.slot());
        values.put(key(prefix + "_OFF"), q.offset());
        for (int i = 0; i < 4; i++) {
            values.put(key(prefix + "_S" + i), q.strides()[i]);
            values.put(key(prefix + "_D" + i), q.dims()[i]);
        }
        for (String k : new String[]{"_SLOT", "_OFF", "_S0", "_S1", "_S2", "_S3", "_D0", "_D1", "_D2", "_D3"})
            placementSlot.put(key(prefix + k), slot);
        return this;
    }

    boolean has(String name) { return values.containsKey(key(name)); }

    /** Keys by field name (P_ prefixed), in the order they were put. */
    Map<String, Object> values() { return Collections.unmodifiableMap(values); }

    /** The keys that name none of the declared parameters and are not unread parts of a placement the template takes. */
    Set<String> unknownTo(Set<String> declared) {
        Set<String> unknown = new TreeSet<>();
        for (String k : values.keySet()) {
            if (declared.contains(k)) continue;
            String slot = placementSlot.get(k);
            if (slot == null || !declared.contains(slot)) unknown.add(k);
        }
        return unknown;
    }

    private static String key(String name) { return name.startsWith(PREFIX) ? name : PREFIX + name; }
}
