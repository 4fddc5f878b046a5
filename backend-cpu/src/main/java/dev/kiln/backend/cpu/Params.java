package dev.kiln.backend.cpu;

import java.util.LinkedHashMap;
import java.util.Map;

/** A template's parameter values, built fluently: {@code Params.of().put("P_N", 4).placement("X", p)}. */
final class Params {
    final Map<String, Object> map = new LinkedHashMap<>();

    static Params of() { return new Params(); }

    Params put(String name, Object value) {
        map.put(name.startsWith("P_") ? name : "P_" + name, value);
        return this;
    }

    /** P_{prefix}_SLOT, _OFF and, for each of the 4 axes (as 4-d), _S0.._S3 and _D0.._D3. */
    Params placement(String prefix, Placement p) {
        Placement q = p.as4d();
        put(prefix + "_SLOT", q.slot());
        put(prefix + "_OFF", q.offset());
        for (int i = 0; i < 4; i++) {
            put(prefix + "_S" + i, q.strides()[i]);
            put(prefix + "_D" + i, q.dims()[i]);
        }
        return this;
    }

    Map<String, Object> map() { return map; }
}
