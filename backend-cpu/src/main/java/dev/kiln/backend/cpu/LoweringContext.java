package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.HaloKernel;
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
import java.util.Set;

/**
 * What lowering one graph needs: where every value lives (the bufs slot layout is
 * [arena, inputs..., outputs..., weights...]), the weight arrays (packed once, here), and the
 * steps emitted so far.
 *
 * <p>Kernel scratch comes from the memory plan, like every other byte of the arena: a sizing
 * context ({@link #sizing}) only records what each node asks for and specialises nothing; the
 * plan then places each node's scratch where nothing live is, and the real lowering hands out
 * those bytes.
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
    private final int arenaFloats;
    private final int weightBase;
    /** True while only recording scratch sizes: kernels are not specialised. */
    private final boolean sizing;
    private final Map<String, Long> scratchBytes = new LinkedHashMap<>();
    /** The node being lowered and the floats of its scratch handed out so far. */
    private Node current;
    private int scratchUsed;
    /** How dense convolutions are lowered: "auto", "direct", "im2col" or "winograd" (see ConvLowering). */
    final String convMode;

    LoweringContext(Graph g, MemoryPlan plan) { this(g, plan, "auto"); }

    LoweringContext(Graph g, MemoryPlan plan, String convMode) { this(g, plan, convMode, false); }

    /** A context that records each node's scratch and emits no kernels. */
    static LoweringContext sizing(Graph g, MemoryPlan plan, String convMode) { return new LoweringContext(g, plan, convMode, true); }

    private LoweringContext(Graph g, MemoryPlan plan, String convMode, boolean sizing) {
        this.graph = g;
        this.plan = plan;
        this.convMode = convMode;
        this.sizing = sizing;
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
                // in parallel, one row per task: a serial copy took 47 µs of dwsep's 177 (its 400 KB input)
                MovementLowering.copy(this, "copy input %" + in.name() + " into its halo", p.dims(), inputSlots.get(in.name()), 0,
                        MovementLowering.contiguous(p.dims()), p.slot(), p.offset(), p.strides());
                zeroHalo(p, "input %" + in.name());
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
        } else if (plan.outputOf(value) != null) {          // its reshape is a graph output: written into that buffer
            p = Placement.contiguous(outputSlots.get(plan.outputOf(value)), 0, t);
        } else if (plan.isAlias(value) && inputSlots.containsKey(plan.aliasOf(value))) {   // a reshape of a graph input
            p = Placement.contiguous(inputSlots.get(plan.aliasOf(value)), 0, t);
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

    /** Starts lowering n (null: done); scratch asked for until the next call belongs to n. */
    void beginNode(Node n) {
        current = n;
        scratchUsed = 0;
    }

    /**
     * Working memory for the current node's kernels, in the arena (per call, so concurrent calls
     * stay apart), 64-byte aligned; returns its offset in floats.
     */
    int scratch(int floats) {
        if (current == null) throw new IllegalStateException("scratch asked for outside a node");
        int off = scratchUsed;
        scratchUsed = (off + floats + 15) / 16 * 16;
        if (sizing) {
            scratchBytes.put(current.name(), 4L * scratchUsed);
            return off;
        }
        MemoryPlan.Slot s = plan.scratch().get(current.name());
        if (s == null || 4L * scratchUsed > s.bytes())
            throw new IllegalStateException(current.describe() + " asks for " + 4L * scratchUsed + " bytes of scratch, "
                    + (s == null ? "none" : s.bytes()) + " planned: its lowering depends on more than the graph");
        return (int) (s.offset() / 4) + off;
    }

    /** Scratch bytes each node asked for (a sizing context's result). */
    Map<String, Long> scratchBytes() { return scratchBytes; }

    MemoryPlan plan() { return plan; }

    int arenaFloats() { return arenaFloats; }
    int slotCount() { return weightBase + weights.size(); }
    int weightBase() { return weightBase; }

    /** Emits the result's halo zeroing (if planned) and one specialised kernel for node n. */
    void kernel(Node n, Class<? extends Kernel> template, Params params, int range) {
        Placement out = of(n.name());
        if (out.hasHalo() && !zeroed.contains(out)) zeroHalo(out, "%" + n.name());
        addKernel(n.describe(), template, params, range);
    }

    /** Placements whose halo a step already zeroes (by identity: each value has one placement). */
    private final Set<Placement> zeroed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /** A step that zeroes p's border, one plane per task, before p's producer runs. */
    void zeroHalo(Placement p, String what) {
        zeroed.add(p);
        int[] h = p.halo(), d = p.dims(), s = p.strides();
        Params q = Params.of().put("SLOT", p.slot()).put("OFF", p.offset()).put("S0", s[0]).put("S1", s[1]).put("S2", s[2])
                .put("C", d[1]).put("H", d[2]).put("W", d[3]).put("HT", h[0]).put("HL", h[1]).put("HB", h[2]).put("HR", h[3]);
        addKernel("zero halo of " + what, HaloKernel.class, q, d[0] * d[1]);
    }

    void addKernel(String name, Class<? extends Kernel> template, Params params, int range) {
        if (sizing) return;
        Specialiser.Specialised k = Specialiser.specialise(template, params);
        steps.add(new Step.KernelStep(name + " [" + template.getSimpleName() + "]", k.kernel(), Math.max(1, range), k));
    }
}
