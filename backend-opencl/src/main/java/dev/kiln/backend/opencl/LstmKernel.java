package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Lstm;

/**
 * A whole multi-layer LSTM in one kernel: one work-group per batch element (the recurrence needs
 * a barrier between steps, which only a work-group has). Per step the work-items
 * compute the 4H gate rows in parallel into local memory, then update c and h there. Each layer
 * writes its hidden states into the result, and the next layer reads its input from the same
 * place in place: at step t it reads h_t of the layer below before a barrier and overwrites it
 * after. That is why a bidirectional op has one layer: its reverse direction would read rows the
 * forward one has already overwritten. The work-group runs the forward direction, then the
 * reverse one, each writing its half of every row. (A work-group per direction, with the code of
 * each under a branch on the group id, made PoCL crash: its barriers must not sit in branches.)
 */
final class LstmKernel {
    private LstmKernel() {}

    static Kernel generate(KernelRequest r, Lstm op) {
        if (SteppedRecurrentKernel.applies(r, op.numLayers(), op.bidirectional(), op.batchFirst())) return SteppedRecurrentKernel.lstm(r, op);
        int h = op.hiddenSize(), layers = op.numLayers(), dirs = op.bidirectional() ? 2 : 1;
        View x = RecurrentCode.logical(r.in(0), op.batchFirst()), out = RecurrentCode.logical(r.out(), op.batchFirst());
        int batch = x.dim(0), steps = x.dim(1);
        int wg = RecurrentCode.workGroup(r, h, 6L * h, 4L * h);
        long[] local = {wg};
        int base = op.hasInitialState() ? 3 : 1;
        String both = RecurrentCode.BARRIER;

        StringBuilder b = new StringBuilder("// lstm: ").append(layers).append(" layers, ").append(dirs).append(" directions, hidden ").append(h)
                .append(", ").append(steps).append(" steps, one work-group of ").append(wg).append(" per batch element\n");
        b.append(r.header(local)).append(" {\n");
        b.append("    const int b = get_group_id(0), lid = get_local_id(0);\n");
        b.append("    __local float h[").append(h).append("];\n");
        b.append("    __local float c[").append(h).append("];\n");
        b.append("    __local float g[").append(4 * h).append("];\n");
        for (int layer = 0; layer < layers; layer++)
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (layer * dirs + d), state = layer * dirs + d;
                View wih = r.in(w), whh = r.in(w + 1), bih = r.in(w + 2), bhh = r.in(w + 3);
                View input = layer == 0 ? x : out;
                int features = wih.dim(1);
                String col = "(" + d * h + " + j)";
                b.append("    {  // layer ").append(layer).append(d == 1 ? ", reverse" : "").append('\n');
                b.append("    for (int j = lid; j < ").append(h).append("; j += ").append(wg).append(") {\n");
                if (op.hasInitialState()) {
                    b.append("        h[j] = ").append(r.in(1).at(String.valueOf(state), "b", "j")).append(";\n");
                    b.append("        c[j] = ").append(r.in(2).at(String.valueOf(state), "b", "j")).append(";\n");
                } else {
                    b.append("        h[j] = 0.0f;\n        c[j] = 0.0f;\n");
                }
                b.append("    }\n    ").append(both);
                b.append("    for (int s = 0; s < ").append(steps).append("; s++) {\n");
                b.append("        const int t = ").append(d == 1 ? (steps - 1) + " - s" : "s").append(";\n");
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
                b.append("            ").append(out.at("b", "t", col)).append(" = hn;\n");
                b.append("        }\n        ").append(both);
                b.append("    }\n    }\n");
            }
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{(long) batch * wg}, local);
    }
}
