package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Lstm;

/**
 * A whole multi-layer LSTM in one kernel: one work-group per batch element (the recurrence needs
 * a barrier between steps, which only a work-group has). Per step the work-items compute the 4H
 * gate rows in parallel into local memory, then update c and h there. Each layer writes its
 * hidden states into the result, and the next layer reads its input from the same place in
 * place: at step t it reads h_t of the layer below before a barrier and overwrites it after.
 */
final class LstmKernel {
    private LstmKernel() {}

    static Kernel generate(KernelRequest r, Lstm op) {
        int h = op.hiddenSize(), layers = op.numLayers();
        View x = logical(r.in(0), op.batchFirst()), out = logical(r.out(), op.batchFirst());
        int batch = x.dim(0), steps = x.dim(1);
        DeviceLimits l = r.limits();
        if (4L * 6 * h > l.localBudgetBytes())
            throw new UnsupportedOpException(r.node().describe() + ": hidden size " + h
                    + " needs more local memory than the device has (" + l.localMemBytes() + " B)");
        int wg = Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Code.pow2AtLeast(4L * h));
        long[] local = {wg};
        int base = op.hasInitialState() ? 3 : 1;
        String both = "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);\n";

        StringBuilder b = new StringBuilder("// lstm: ").append(layers).append(" layers, hidden ").append(h).append(", ")
                .append(steps).append(" steps, one work-group of ").append(wg).append(" per batch element\n");
        b.append(r.header(local)).append(" {\n");
        b.append("    const int b = get_group_id(0), lid = get_local_id(0);\n");
        b.append("    __local float h[").append(h).append("];\n");
        b.append("    __local float c[").append(h).append("];\n");
        b.append("    __local float g[").append(4 * h).append("];\n");
        for (int layer = 0; layer < layers; layer++) {
            View wih = r.in(base + 4 * layer), whh = r.in(base + 4 * layer + 1);
            View bih = r.in(base + 4 * layer + 2), bhh = r.in(base + 4 * layer + 3);
            View input = layer == 0 ? x : out;
            int features = wih.dim(1);
            b.append("    // layer ").append(layer).append('\n');
            b.append("    for (int j = lid; j < ").append(h).append("; j += ").append(wg).append(") {\n");
            if (op.hasInitialState()) {
                b.append("        h[j] = ").append(r.in(1).at(String.valueOf(layer), "b", "j")).append(";\n");
                b.append("        c[j] = ").append(r.in(2).at(String.valueOf(layer), "b", "j")).append(";\n");
            } else {
                b.append("        h[j] = 0.0f;\n        c[j] = 0.0f;\n");
            }
            b.append("    }\n    ").append(both);
            b.append("    for (int t = 0; t < ").append(steps).append("; t++) {\n");
            b.append("        for (int row = lid; row < ").append(4 * h).append("; row += ").append(wg).append(") {\n");
            b.append("            float acc = ").append(bih.at("row")).append(" + ").append(bhh.at("row")).append(";\n");
            b.append("            for (int f = 0; f < ").append(features).append("; f++) acc = fma(")
                    .append(wih.at("row", "f")).append(", ").append(input.at("b", "t", "f")).append(", acc);\n");
            b.append("            for (int j = 0; j < ").append(h).append("; j++) acc = fma(").append(whh.at("row", "j")).append(", h[j], acc);\n");
            b.append("            g[row] = acc;\n");
            b.append("        }\n        ").append(both);
            b.append("        for (int j = lid; j < ").append(h).append("; j += ").append(wg).append(") {\n");
            b.append("            const float ig = ").append(Code.activation(Act.SIGMOID, "g[j]")).append(", fg = ")
                    .append(Code.activation(Act.SIGMOID, "g[" + h + " + j]")).append(";\n");
            b.append("            const float gg = ").append(Code.activation(Act.TANH, "g[" + 2 * h + " + j]")).append(", og = ")
                    .append(Code.activation(Act.SIGMOID, "g[" + 3 * h + " + j]")).append(";\n");
            b.append("            const float cn = fg * c[j] + ig * gg;\n");
            b.append("            const float hn = og * tanh(cn);\n");
            b.append("            c[j] = cn;\n            h[j] = hn;\n");
            b.append("            ").append(out.at("b", "t", "j")).append(" = hn;\n");
            b.append("        }\n        ").append(both);
            b.append("    }\n");
        }
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{(long) batch * wg}, local);
    }

    /** The sequence as [batch, step, feature], whichever way it is stored. */
    private static View logical(View stored, boolean batchFirst) {
        return batchFirst ? stored : stored.permute(new int[]{1, 0, 2});
    }
}
