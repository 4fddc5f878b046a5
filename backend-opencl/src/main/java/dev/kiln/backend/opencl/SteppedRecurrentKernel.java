package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;

import java.util.ArrayList;
import java.util.List;

/**
 * An LSTM or GRU spread over many work-groups, for when there are fewer batch elements than
 * compute units (batch 1 on PoCL's two cores; any small batch on a GPU): {@link LstmKernel} gives
 * each batch element one work-group, because only a work-group can wait at a barrier, so batch 1
 * ran on one core. Here there is no barrier: the kernel is launched once per time step (plus one)
 * for each layer and direction, back to back on the in-order queue (whose order is the barrier),
 * and each work-item computes every gate of one hidden unit j of one batch element, so the update
 * of c_j and h_j needs nothing from other work-items. The launch index (an int argument) says
 * which layer, direction and step it is.
 *
 * <p>State lives in the kernel's scratch: c [B,H], then h of the previous and the current step
 * [2,B,H], by the step's parity. A step reads all of h_{t-1} and writes h_t, so h_t cannot go to
 * the result at once when the next layer reads its input from the result in place (another
 * work-group may still be reading row t): launch s copies h of step s-1 into the result instead,
 * and the extra last launch copies the final step's.
 */
final class SteppedRecurrentKernel {
    private SteppedRecurrentKernel() {}

    /** Whether to spread this op over work-groups: fewer batch elements than compute units, and layers readable in place. */
    static boolean applies(KernelRequest r, int layers, boolean bidirectional, boolean batchFirst) {
        int batch = RecurrentCode.logical(r.in(0), batchFirst).dim(0);
        return batch < r.limits().computeUnits() && !(bidirectional && layers > 1)
                && !Boolean.getBoolean("kiln.opencl.one-group-rnn");
    }

    static Kernel lstm(KernelRequest r, Lstm op) {
        return generate(r, 4, op.hiddenSize(), op.numLayers(), op.bidirectional(), op.batchFirst(), op.hasInitialState(), op.hasInitialState() ? 3 : 1);
    }

    static Kernel gru(KernelRequest r, Gru op) {
        return generate(r, 3, op.hiddenSize(), op.numLayers(), op.bidirectional(), op.batchFirst(), op.hasInitialState(), op.hasInitialState() ? 2 : 1);
    }

    private static Kernel generate(KernelRequest r, int gates, int h, int layers, boolean bidirectional, boolean batchFirst, boolean init, int base) {
        boolean lstm = gates == 4;
        int dirs = bidirectional ? 2 : 1;
        View x = RecurrentCode.logical(r.in(0), batchFirst), out = RecurrentCode.logical(r.out(), batchFirst);
        int batch = x.dim(0), steps = x.dim(1), items = batch * h;
        int wg = workGroup(r.limits(), items);
        long[] local = {wg};
        String hPrev = "(scratch + " + items + " + ((s + 1) & 1) * " + items + ")";
        String hCur = "(scratch + " + items + " + (s & 1) * " + items + ")";

        StringBuilder b = new StringBuilder("// ").append(lstm ? "lstm" : "gru").append(": ").append(layers).append(" layers, ").append(dirs)
                .append(" directions, hidden ").append(h).append(", ").append(steps).append(" steps; one launch per step (").append(steps + 1)
                .append(" per layer and direction), one work-item per batch element and hidden unit, work-groups of ").append(wg).append('\n');
        StringBuilder header = new StringBuilder(r.header(local));
        header.setLength(header.length() - 1);   // reopen the parameter list for the scratch and the launch index
        b.append(header).append(", global float* restrict scratch, const int launch) {\n");
        b.append("    const int gid = get_global_id(0);\n    if (gid >= ").append(items).append(") return;\n");
        b.append("    const int b = gid / ").append(h).append(", j = gid % ").append(h).append(";\n");
        b.append("    const int ld = launch / ").append(steps + 1).append(", s = launch % ").append(steps + 1).append(";\n");
        for (int layer = 0; layer < layers; layer++)
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (layer * dirs + d), state = layer * dirs + d;
                View wih = r.in(w), whh = r.in(w + 1), bih = r.in(w + 2), bhh = r.in(w + 3);
                View input = layer == 0 ? x : out;
                int features = wih.dim(1);
                String col = "(" + d * h + " + j)", prevT = d == 1 ? "(" + (steps - 1) + " - (s - 1))" : "(s - 1)";
                b.append("    if (ld == ").append(state).append(") {  // layer ").append(layer).append(d == 1 ? ", reverse" : "").append('\n');
                b.append("        if (s > 0) ").append(out.at("b", prevT, col)).append(" = ").append(hPrev).append("[gid];\n");
                b.append("        if (s == ").append(steps).append(") return;\n");
                b.append("        const int t = ").append(d == 1 ? (steps - 1) + " - s" : "s").append(";\n");
                for (int g = 0; g < gates; g++) {
                    String row = "(" + g * h + " + j)";
                    if (lstm) b.append("        float a").append(g).append(" = ").append(bih.at(row)).append(" + ").append(bhh.at(row)).append(";\n");
                    else b.append("        float a").append(g).append(" = ").append(bih.at(row)).append(", r").append(g).append(" = ").append(bhh.at(row)).append(";\n");
                }
                b.append("        for (int f = 0; f < ").append(features).append("; f++) {\n");
                b.append("            const float v = ").append(input.at("b", "t", "f")).append(";\n");
                for (int g = 0; g < gates; g++)
                    b.append("            a").append(g).append(" = fma(").append(wih.at("(" + g * h + " + j)", "f")).append(", v, a").append(g).append(");\n");
                b.append("        }\n");
                String initH = init ? r.in(1).at(String.valueOf(state), "b", "k") : "0.0f";
                b.append("        for (int k = 0; k < ").append(h).append("; k++) {\n");
                b.append("            const float v = s == 0 ? ").append(initH).append(" : ").append(hPrev).append("[b * ").append(h).append(" + k];\n");
                for (int g = 0; g < gates; g++) {
                    String acc = lstm ? "a" + g : "r" + g;
                    b.append("            ").append(acc).append(" = fma(").append(whh.at("(" + g * h + " + j)", "k")).append(", v, ").append(acc).append(");\n");
                }
                b.append("        }\n");
                String ownH = "(s == 0 ? " + (init ? r.in(1).at(String.valueOf(state), "b", "j") : "0.0f") + " : " + hPrev + "[gid])";
                if (lstm) {
                    String ownC = "(s == 0 ? " + (init ? r.in(2).at(String.valueOf(state), "b", "j") : "0.0f") + " : scratch[gid])";
                    b.append("        const float ig = ").append(Code.activation(Act.SIGMOID, "a0")).append(", fg = ").append(Code.activation(Act.SIGMOID, "a1"))
                            .append(";\n        const float gg = ").append(Code.activation(Act.TANH, "a2")).append(", og = ").append(Code.activation(Act.SIGMOID, "a3")).append(";\n");
                    b.append("        const float cn = fg * ").append(ownC).append(" + ig * gg;\n");
                    b.append("        scratch[gid] = cn;\n");
                    b.append("        ").append(hCur).append("[gid] = og * tanh(cn);\n");
                } else {
                    b.append("        const float rg = ").append(Code.activation(Act.SIGMOID, "a0 + r0")).append(", zg = ").append(Code.activation(Act.SIGMOID, "a1 + r1")).append(";\n");
                    b.append("        const float ng = ").append(Code.activation(Act.TANH, "fma(rg, r2, a2)")).append(";\n");
                    b.append("        ").append(hCur).append("[gid] = (1.0f - zg) * ng + zg * ").append(ownH).append(";\n");
                }
                b.append("        return;\n    }\n");
            }
        b.append("}\n");
        List<String> args = new ArrayList<>(r.node().inputs());
        args.add(r.node().name());
        args.add(Kernel.SCRATCH);
        args.add(Kernel.LAUNCH);
        return new Kernel(r.name(), r.node(), b.toString(), new long[]{Code.roundUp(items, wg)}, local, args,
                layers * dirs * (steps + 1), 3L * items);
    }

    /**
     * Enough work-groups for every compute unit to take several (PoCL runs a work-group on one
     * thread), each at least 8 items wide where there are that many, so the device's implicit
     * vectorisation across work-items has lanes to fill.
     */
    static int workGroup(DeviceLimits l, int items) {
        int want = Math.max(8, Integer.highestOneBit(Math.max(1, items / (4 * Math.max(1, l.computeUnits())))));
        return Math.max(1, Math.min(Math.min(want, l.targetWorkGroupSize()), Math.min(l.maxItems(0), Code.pow2AtLeast(items))));
    }
}
