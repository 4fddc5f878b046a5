package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.Kernel;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What lowering one graph needs: where every value lives (the bufs slot layout is
 * [arena, inputs..., outputs..., weights...]), the weight arrays (packed once, here), and the
 * steps emitted so far.
 */
final class LoweringContext {
    static final int ARENA = 0;

    final Graph graph;
    final MemoryPlan plan;
    final List<Step> steps = new ArrayList<>();
    final List<float[]> weights = new ArrayList<>();
    final Map<String, Integer> inputSlots = new LinkedHashMap<>(), outputSlots = new LinkedHashMap<>();
    private final Map<String, Placement> placements = new HashMap<>();
    private final Map<String, Integer> constantSlots = new HashMap<>();
    private int arenaFloats;
    private final int weightBase;
    /** How dense convolutions are lowered: "auto", "direct" or "im2col" (see ConvLowering). */
    final String convMode;

    LoweringContext(Graph g, MemoryPlan plan) { this(g, plan, "auto"); }

    LoweringContext(Graph g, MemoryPlan plan, String convMode) {
        this.graph = g;
        this.plan = plan;
        this.convMode = convMode;
        int slot = 1;
        for (Graph.Value in : g.inputs()) inputSlots.put(in.name(), slot++);
        for (String out : g.outputs()) if (!outputSlots.containsKey(out)) outputSlots.put(out, slot++);
        weightBase = slot;
        long arenaBytes = plan.peakBytes();
        if (arenaBytes / 4 > Integer.MAX_VALUE - 64) throw new KilnException("memory plan needs " + arenaBytes + " bytes, more than one Java array holds");
        arenaFloats = (int) (arenaBytes / 4);
        for (Graph.Value in : g.inputs()) {
            MemoryPlan.Slot s = plan.slots().get(in.name());
            if (s != null) {
                Placement p = arena(s, in.type());
                placements.put(in.name(), p);
                steps.add(new Step.CopyIn(inputSlots.get(in.name()), p));
                steps.add(new Step.ZeroHalo(p));
            } else placements.put(in.name(), Placement.contiguous(inputSlots.get(in.name()), 0, in.type()));
        }
    }

    private static Placement arena(MemoryPlan.Slot s, TensorType t) {
        int base = (int) (s.offset() / 4);
        boolean halo = s.halo()[0] + s.halo()[1] + s.halo()[2] + s.halo()[3] > 0;
        return halo ? Placement.haloed(ARENA, base, t, s.halo()) : Placement.contiguous(ARENA, base, t);
    }

    /** Where value lives: caller input, caller output, arena slot or constant weight. */
    Placement of(String value) {
        Placement p = placements.get(value);
        if (p != null) return p;
        TensorType t = graph.typeOf(value);
        if (graph.isConstant(value)) {
            int slot = constantSlots.computeIfAbsent(value, v -> weight(graph.weight(v).data()));
            p = Placement.contiguous(slot, 0, t);
        } else if (outputSlots.containsKey(value)) {
            p = Placement.contiguous(outputSlots.get(value), 0, t);
        } else {
            MemoryPlan.Slot s = plan.slots().get(value);
            if (s == null) throw new IllegalStateException("value %" + value + " has no place in the memory plan");
            p = arena(s, t);
        }
        placements.put(value, p);
        return p;
    }

    /** The constant's data (compile-time weights are packed from it). */
    HostTensor constant(String value) { return graph.isConstant(value) ? graph.weights().get(value) : null; }

    /** Registers a compile-time array (e.g. packed weights) and returns its bufs slot. */
    int weight(float[] data) {
        weights.add(data);
        return weightBase + weights.size() - 1;
    }

    /** Scratch space in the arena beyond the plan (per call, so concurrent calls stay apart); returns its offset. */
    int scratch(int floats) {
        int off = (arenaFloats + 15) / 16 * 16;
        arenaFloats = off + floats;
        return off;
    }

    int arenaFloats() { return arenaFloats; }
    int slotCount() { return weightBase + weights.size(); }
    int weightBase() { return weightBase; }

    /** Emits the result's halo zeroing (if planned) and one specialised kernel for node n. */
    void kernel(Node n, Class<? extends Kernel> template, Params params, int range) {
        Placement out = of(n.name());
        if (out.hasHalo() && steps.stream().noneMatch(s -> s instanceof Step.ZeroHalo z && z.p() == out)) steps.add(new Step.ZeroHalo(out));
        addKernel(n.describe(), template, params, range);
    }

    void addKernel(String name, Class<? extends Kernel> template, Params params, int range) {
        Specializer.Specialized k = Specializer.specialize(template, params);
        steps.add(new Step.KernelStep(name + " [" + template.getSimpleName() + "]", k.kernel(), Math.max(1, range), k));
    }
}
