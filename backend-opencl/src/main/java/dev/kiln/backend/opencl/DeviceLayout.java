package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.Node;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.UnsupportedOpException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every value of a graph lives on the device. Intermediates (and graph inputs that padded
 * convolutions read, stored with their halo) live in one arena buffer at the memory plan's
 * offsets; constants are packed into one read-only weights buffer; other graph inputs and the
 * graph's outputs get a buffer each, the only ones the host transfers. A run owns its own arena
 * and input/output buffers; the weights are shared by all runs of an executable.
 */
final class DeviceLayout {
    enum Where { ARENA, WEIGHTS, INPUT, OUTPUT }

    /** A value's home: which buffer (index among the inputs or outputs), element offset, halo. */
    record Storage(Where where, int index, long offset, int[] halo, TensorType type) {
        View view(String ptr) { return View.stored(ptr, offset, type.shape().dims(), halo); }
        long bytes() { return type.bytes(); }
    }

    /** A graph input stored in the arena with a zero halo: written there directly, row by row. */
    record HaloedInput(String name, Storage storage) {}

    /** A byte range of the arena to zero before a node runs (index -1: before the inputs are written). */
    record ZeroFill(int beforeNode, long offsetBytes, long bytes) {}

    private static final long WEIGHT_ALIGN = 16;

    final Graph graph;
    final MemoryPlan plan;
    final Map<String, Storage> storage = new LinkedHashMap<>();
    final List<String> inputBuffers = new ArrayList<>();
    final List<String> outputBuffers = new ArrayList<>();
    final List<HaloedInput> haloedInputs = new ArrayList<>();
    final List<ZeroFill> zeroFills = new ArrayList<>();
    final List<String> weightOrder = new ArrayList<>();
    final long arenaBytes;
    long weightElements;

    DeviceLayout(Graph g) {
        this.graph = g;
        this.plan = MemoryPlan.plan(g);
        this.arenaBytes = plan.peakBytes();
        for (Graph.Value in : g.inputs()) {
            MemoryPlan.Slot slot = plan.slots().get(in.name());
            if (slot != null) {
                Storage s = arena(slot, in.type());
                storage.put(in.name(), s);
                haloedInputs.add(new HaloedInput(in.name(), s));
            } else {
                storage.put(in.name(), new Storage(Where.INPUT, inputBuffers.size(), 0, View.NO_HALO, in.type()));
                inputBuffers.add(in.name());
            }
        }
        for (Node n : g.nodes())
            for (String v : n.inputs())
                if (g.isConstant(v) && !storage.containsKey(v)) {
                    TensorType t = g.typeOf(v);
                    storage.put(v, new Storage(Where.WEIGHTS, 0, weightElements, View.NO_HALO, t));
                    weightOrder.add(v);
                    weightElements = Code.roundUp(weightElements + t.shape().size(), WEIGHT_ALIGN);
                }
        for (Node n : g.nodes())
            if (g.outputs().contains(n.name())) {
                storage.put(n.name(), new Storage(Where.OUTPUT, outputBuffers.size(), 0, View.NO_HALO, n.type()));
                outputBuffers.add(n.name());
            }
        for (Node n : g.nodes()) {
            String root = plan.aliasOf(n.name());
            if (g.outputs().contains(n.name())) continue;
            if (plan.outputOf(n.name()) != null) {       // its reshape is a graph output: the producer writes that buffer
                storage.put(n.name(), new Storage(Where.OUTPUT, outputBuffers.indexOf(plan.outputOf(n.name())), 0, View.NO_HALO, n.type()));
            } else if (root != null && inputBuffers.contains(root)) {   // a reshape of a graph input reads the caller's buffer
                storage.put(n.name(), new Storage(Where.INPUT, inputBuffers.indexOf(root), 0, View.NO_HALO, n.type()));
            } else {
                MemoryPlan.Slot slot = plan.slots().get(n.name());
                if (slot == null) throw new KilnException("memory plan has no slot for %" + n.name() + " (" + n.describe() + ")");
                storage.put(n.name(), arena(slot, n.type()));
            }
        }
        planZeroFills(g);
        if (arenaBytes / 4 >= Integer.MAX_VALUE)
            throw new UnsupportedOpException("graph @" + g.name() + " needs an arena of " + MemoryPlan.bytes(arenaBytes)
                    + ", 2^31 or more floats; the OpenCL backend indexes with 32-bit ints");
        for (Map.Entry<String, Storage> e : storage.entrySet())
            if (e.getValue().type().shape().size() + e.getValue().offset() >= Integer.MAX_VALUE) {
                Node producer = g.producer(e.getKey());
                throw new UnsupportedOpException("graph @" + g.name() + ": " + (producer != null ? producer.describe() : "%" + e.getKey())
                        + " has a buffer of 2^31 or more elements (" + e.getValue().type() + "); the OpenCL backend indexes with 32-bit ints");
            }
    }

    private static Storage arena(MemoryPlan.Slot slot, TensorType type) {
        if (slot.offset() % 4 != 0) throw new KilnException("memory plan slot %" + slot.value() + " is not float-aligned");
        return new Storage(Where.ARENA, 0, slot.offset() / 4, slot.halo().clone(), type);
    }

    /**
     * The arena is zeroed once when a run's buffers are made; a haloed slot whose bytes another
     * value also uses (at another time) must be zeroed again before its producer writes the
     * interior, or its border would hold that value's leftovers.
     */
    private void planZeroFills(Graph g) {
        List<MemoryPlan.Slot> slots = new ArrayList<>(plan.slots().values());
        for (MemoryPlan.Slot s : slots) {
            if (s.halo()[0] == 0 && s.halo()[1] == 0 && s.halo()[2] == 0 && s.halo()[3] == 0) continue;
            boolean shared = false;
            for (MemoryPlan.Slot o : slots)
                if (o != s && s.offset() < o.offset() + o.bytes() && o.offset() < s.offset() + s.bytes()) shared = true;
            if (shared) zeroFills.add(new ZeroFill(s.firstUse(), s.offset(), s.bytes()));
        }
    }

    Storage of(String value) {
        Storage s = storage.get(value);
        if (s == null) throw new KilnException("value %" + value + " has no device storage");
        return s;
    }

    /** Constant data packed at the planned offsets, ready to upload once. */
    float[] packedWeights() {
        float[] w = new float[(int) Math.max(weightElements, 1)];
        for (String name : weightOrder) {
            float[] d = graph.weight(name).data();
            System.arraycopy(d, 0, w, (int) storage.get(name).offset(), d.length);
        }
        return w;
    }

    String describe(String value) {
        Storage s = of(value);
        return "%" + value + " " + s.type() + " in " + switch (s.where()) {
            case ARENA -> "arena @" + s.offset() * 4 + (s.halo()[0] + s.halo()[1] + s.halo()[2] + s.halo()[3] == 0 ? ""
                    : " halo " + java.util.Arrays.toString(s.halo()));
            case WEIGHTS -> "weights @" + s.offset() * 4;
            case INPUT -> "input buffer " + s.index();
            case OUTPUT -> "output buffer " + s.index();
        };
    }
}
