package dev.kiln.backend.opencl;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CPU-device GEMM tiles the {@link Tuner} measured as fastest on one device, by problem key
 * ({@link CpuDeviceGemm.Problem#key}); problems not in the table get the family's defaults.
 * A table made by {@link #recording()} also notes every problem a lowering asks about, which is
 * how the tuner learns a graph's GEMMs without a second copy of the lowering rules.
 */
final class TunedTiles {
    static final TunedTiles NONE = new TunedTiles(Map.of(), null);

    private final Map<String, CpuDeviceGemm.Params> byKey;
    private final Set<CpuDeviceGemm.Problem> asked;

    private TunedTiles(Map<String, CpuDeviceGemm.Params> byKey, Set<CpuDeviceGemm.Problem> asked) {
        this.byKey = Map.copyOf(byKey);
        this.asked = asked;
    }

    static TunedTiles of(Map<String, CpuDeviceGemm.Params> byKey) { return new TunedTiles(byKey, null); }

    static TunedTiles recording() { return new TunedTiles(Map.of(), ConcurrentHashMap.newKeySet()); }

    /** The tuned tile for p, or null (then the defaults apply). */
    CpuDeviceGemm.Params lookup(CpuDeviceGemm.Problem p) {
        if (asked != null) asked.add(p);
        return byKey.get(p.key());
    }

    /** Problems asked about so far (recording tables only). */
    Set<CpuDeviceGemm.Problem> asked() { return asked == null ? Set.of() : Set.copyOf(asked); }

    int size() { return byKey.size(); }

    @Override public String toString() { return byKey.isEmpty() ? "no tuned tiles" : byKey.size() + " tuned GEMM tiles"; }
}
