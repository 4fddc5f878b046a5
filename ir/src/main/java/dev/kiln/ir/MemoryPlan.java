package dev.kiln.ir;

import dev.kiln.ir.op.PadsInput;
import dev.kiln.ir.op.Reshape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every intermediate lives in one arena. Each node's result is live from the node that
 * defines it to its last use (graph outputs to the end); results whose lifetimes overlap never
 * share bytes. A result read by padded convolutions is planned with a zero halo around its
 * spatial interior, so the producer writes inside a zero border and no kernel pads per call.
 * It lives in ir (not passes) because the backends, which see only ir, allocate from it.
 *
 * <p>A backend's kernels may need working memory of their own (packed operands, im2col columns,
 * a transposed copy): the backend asks for it per node ({@link #plan(Graph, Map)}), and it is
 * planned like a result live during that node only, so it shares bytes with results that are
 * dead by then. The plan is the one owner of the arena: what {@code kiln inspect} reports is
 * what runs.
 *
 * <p>A reshape that only relabels memory is an alias, not a copy: its result is its operand's
 * bytes read with other dims, so the backends emit nothing for it. The operand and its aliases
 * form one group planned as one slot live from the operand's definition to the last use of any
 * member, so nothing overwrites those bytes while an alias is still read (no kernel writes
 * into an operand, so the bytes stay as the producer left them). See {@link #aliasable} for
 * the reshapes that stay copies. At the graph's edges a reshape is an alias too: of a graph input
 * (the group has no arena bytes: it reads the caller's input), and into a graph output, where
 * the operand's producer writes straight into the caller's output buffer ({@link #outputOf}).
 *
 * @param slots   the graph's intermediate results by name; an alias has its group's slot under its own name
 * @param scratch working memory by the name of the node whose kernels use it
 * @param aliases each aliased reshape's result by name, to the group's first value (the one a kernel writes, or a graph input)
 * @param intoOutputs each result written into a graph output's buffer (it has no slot), to that output's name
 */
public record MemoryPlan(Map<String, Slot> slots, Map<String, Slot> scratch, Map<String, String> aliases,
                         Map<String, String> intoOutputs, long peakBytes, long totalBytes) {
    public static final int ALIGN = 64;

    /**
     * One buffer. halo is [top, left, bottom, right] rows/columns of zeros around the [H,W]
     * interior of a rank-4 result (all zero otherwise); bytes include the halo. A scratch slot is
     * a node's kernel working memory, named after that node.
     */
    public record Slot(String value, long offset, long bytes, int firstUse, int lastUse, int[] halo, boolean isScratch) {
        boolean overlapsInTime(Slot o) { return firstUse <= o.lastUse && o.firstUse <= lastUse; }
        boolean overlapsInSpace(Slot o) { return offset < o.offset + o.bytes && o.offset < offset + bytes; }
    }

    public static MemoryPlan plan(Graph g) { return plan(g, Map.of()); }

    /** Plans the graph's results and, for each node named in scratchBytes, that much working memory live during it. */
    public static MemoryPlan plan(Graph g, Map<String, Long> scratchBytes) {
        List<Node> nodes = g.nodes();
        Map<String, Integer> def = new HashMap<>(), last = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            def.put(nodes.get(i).name(), i);
            last.put(nodes.get(i).name(), i);
            for (String in : nodes.get(i).inputs()) if (def.containsKey(in)) last.put(in, i);
        }
        // alias groups: each member's root, and the group's lifetime stretched to its last reader
        Map<String, String> aliases = new LinkedHashMap<>(), intoOutputs = new LinkedHashMap<>();
        for (Node n : nodes) {
            if (!aliasable(g, n, def)) continue;
            String in = n.inputs().getFirst();
            if (g.outputs().contains(n.name())) {
                // the operand lives in the output's buffer; only a value of its own (not itself an alias) can
                if (aliases.containsKey(in) || intoOutputs.containsKey(in)) continue;
                intoOutputs.put(in, n.name());
                aliases.put(n.name(), in);
                continue;
            }
            String root = aliases.getOrDefault(in, in);
            aliases.put(n.name(), root);
            last.merge(root, last.get(n.name()), Math::max);
        }
        List<Slot> pending = new ArrayList<>();
        long total = 0;
        // a graph input read by padded convs is copied once into a haloed buffer before the first node
        for (Graph.Value in : g.inputs()) {
            int[] halo = halo(g, in.name(), in.type());
            if (isZero(halo)) continue;
            int lastUse = 0;
            for (int i = 0; i < nodes.size(); i++) if (nodes.get(i).inputs().contains(in.name())) lastUse = i;
            long bytes = align(paddedBytes(in.type(), halo));
            total += bytes;
            pending.add(new Slot(in.name(), 0, bytes, -1, lastUse, halo, false));
        }
        // graph outputs are handed to the caller, so they live outside the arena
        for (Node n : nodes) {
            if (g.outputs().contains(n.name()) || aliases.containsKey(n.name()) || intoOutputs.containsKey(n.name())) continue;
            int[] halo = halo(g, n.name(), n.type());
            long bytes = align(paddedBytes(n.type(), halo));
            total += bytes;
            pending.add(new Slot(n.name(), 0, bytes, def.get(n.name()), last.get(n.name()), halo, false));
        }
        for (int i = 0; i < nodes.size(); i++) {
            long bytes = scratchBytes.getOrDefault(nodes.get(i).name(), 0L);
            if (bytes <= 0) continue;
            total += align(bytes);
            pending.add(new Slot(nodes.get(i).name(), 0, align(bytes), i, i, new int[4], true));
        }
        pending.sort(Comparator.comparingLong(Slot::bytes).reversed().thenComparingInt(Slot::firstUse));
        List<Slot> placed = new ArrayList<>();
        Map<String, Slot> scratch = new LinkedHashMap<>();
        long peak = 0;
        for (Slot s : pending) {
            List<Slot> live = placed.stream().filter(s::overlapsInTime).sorted(Comparator.comparingLong(Slot::offset)).toList();
            long offset = 0;
            for (Slot o : live) {
                if (offset + s.bytes() <= o.offset()) break;
                offset = Math.max(offset, o.offset() + o.bytes());
            }
            Slot p = new Slot(s.value(), offset, s.bytes(), s.firstUse(), s.lastUse(), s.halo(), s.isScratch());
            placed.add(p);
            if (p.isScratch()) scratch.put(p.value(), p);
            peak = Math.max(peak, offset + s.bytes());
        }
        Map<String, Slot> slots = new LinkedHashMap<>();
        placed.sort(Comparator.comparingInt(Slot::firstUse));
        for (Slot s : placed) if (!s.isScratch()) slots.put(s.value(), s);
        for (Map.Entry<String, String> a : aliases.entrySet()) {
            Slot r = slots.get(a.getValue());
            if (r == null) continue;     // a graph input's alias, or a graph output: outside the arena
            slots.put(a.getKey(), new Slot(a.getKey(), r.offset(), r.bytes(), r.firstUse(), r.lastUse(), r.halo(), false));
        }
        return new MemoryPlan(slots, scratch, aliases, intoOutputs, peak, total);
    }

    /**
     * Whether n is a reshape that may share its operand's bytes. It stays a copy when its operand
     * is a constant, when its operand is a graph output (the caller's buffer, which its own
     * reshape must not share with another output), when it is a graph output whose operand has
     * another reader or is a graph input (two caller buffers), or when either side has a halo
     * (the layouts differ: the interior is strided; a haloed graph input is copied into the
     * arena). Same byte size is checked too.
     */
    static boolean aliasable(Graph g, Node n, Map<String, Integer> def) {
        if (!(n.op() instanceof Reshape) || n.inputs().size() != 1) return false;
        String in = n.inputs().getFirst();
        if (g.isConstant(in) || g.outputs().contains(in)) return false;
        if (g.outputs().contains(n.name()) && (!def.containsKey(in) || g.useCount(in) != 1)) return false;
        TensorType t = g.typeOf(in);
        return t.bytes() == n.type().bytes() && isZero(halo(g, in, t)) && isZero(halo(g, n.name(), n.type()));
    }

    /** The value whose bytes value shares (the group's first, which a kernel writes), or null if it has its own. */
    public String aliasOf(String value) { return aliases.get(value); }

    public boolean isAlias(String value) { return aliases.containsKey(value); }

    /** The graph output into whose buffer value is written (a reshape of it is that output), or null. */
    public String outputOf(String value) { return intoOutputs.get(value); }

    /** The largest padding any op reading this result through zeros ({@link PadsInput}) applies to it. */
    static int[] halo(Graph g, String value, TensorType type) {
        int[] h = new int[4];
        if (type.rank() != 4) return h;
        for (Node c : g.consumers(value)) {
            if (!c.inputs().getFirst().equals(value)) continue;
            if (c.op() instanceof PadsInput p) for (int i = 0; i < 4; i++) h[i] = Math.max(h[i], p.padding().get(i));
        }
        return h;
    }

    static boolean isZero(int[] halo) { return halo[0] == 0 && halo[1] == 0 && halo[2] == 0 && halo[3] == 0; }

    static long paddedBytes(TensorType t, int[] halo) {
        if (t.rank() != 4) return t.bytes();
        return (long) t.dim(0) * t.dim(1) * (t.dim(2) + halo[0] + halo[2]) * (t.dim(3) + halo[1] + halo[3]) * t.dtype().bytes();
    }

    static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    /** Pairs of results that are live at once and share bytes: empty for a correct plan. */
    public List<String> conflicts() {
        List<String> out = new ArrayList<>();
        List<Slot> all = new ArrayList<>(slots.values());
        all.addAll(scratch.values());
        for (int i = 0; i < all.size(); i++)
            for (int j = i + 1; j < all.size(); j++)
                if (!sameGroup(all.get(i), all.get(j)) && all.get(i).overlapsInTime(all.get(j)) && all.get(i).overlapsInSpace(all.get(j)))
                    out.add(describe(all.get(i)) + " and " + describe(all.get(j)));
        return out;
    }

    /** Two results of one alias group share bytes by design. */
    private boolean sameGroup(Slot a, Slot b) {
        if (a.isScratch() || b.isScratch()) return false;
        return aliases.getOrDefault(a.value(), a.value()).equals(aliases.getOrDefault(b.value(), b.value()));
    }

    private static String describe(Slot s) { return s.isScratch() ? "scratch of %" + s.value() : "%" + s.value(); }

    /** "1.5 MiB", "12.0 KiB", "512 B". */
    public static String bytes(long n) {
        if (n >= 1 << 20) return String.format("%.2f MiB", n / 1048576.0);
        if (n >= 1 << 10) return String.format("%.1f KiB", n / 1024.0);
        return n + " B";
    }

    @Override public String toString() {
        StringBuilder b = new StringBuilder(String.format("memory plan: arena %s for %d intermediates%s%s totalling %s (%.0f%%)%n",
                bytes(peakBytes), slots.size(), aliases.isEmpty() ? "" : " (" + aliases.size() + " reshapes aliasing their operand)",
                scratch.isEmpty() ? "" : " and " + scratch.size() + " kernel scratch buffers",
                bytes(totalBytes), totalBytes == 0 ? 0 : 100.0 * peakBytes / totalBytes));
        List<Slot> all = new ArrayList<>(slots.values());
        all.addAll(scratch.values());
        all.sort(Comparator.comparingInt(Slot::firstUse));
        for (Slot s : all) {
            if (!s.isScratch() && isAlias(s.value())) {
                b.append(String.format("  %-29s @%10d  alias of %%%s%n", describe(s), s.offset(), aliasOf(s.value())));
                continue;
            }
            boolean haloed = !isZero(s.halo());
            b.append(String.format("  %-29s @%10d  %10s  live [%d,%d]%s%n", describe(s), s.offset(), bytes(s.bytes()),
                    s.firstUse(), s.lastUse(), haloed ? "  halo " + java.util.Arrays.toString(s.halo()) : ""));
        }
        for (Map.Entry<String, String> a : aliases.entrySet())
            if (!slots.containsKey(a.getKey()) && !intoOutputs.containsValue(a.getKey()))
                b.append(String.format("  %-29s  alias of graph input %%%s%n", "%" + a.getKey(), a.getValue()));
        for (Map.Entry<String, String> o : intoOutputs.entrySet())
            b.append(String.format("  %-29s  in graph output %%%s's buffer (a reshape of it)%n", "%" + o.getKey(), o.getValue()));
        return b.toString();
    }
}
