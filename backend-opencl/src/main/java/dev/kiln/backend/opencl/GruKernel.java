package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Gru;

/**
 * A whole multi-layer GRU in one kernel, laid out as {@link LstmKernel}: one work-group per batch
 * element, layers (or the two directions, one after the other) in place over the result. Per step the work-items compute the 3H
 * rows of W_ih·x + b_ih and of W_hh·h + b_hh into two local arrays (the candidate needs the
 * recurrent part on its own: n = tanh(gi_n + r⊙gh_n)), then update h.
 */
final class GruKernel {
    private GruKernel() {}

    static Kernel generate(KernelRequest r, Gru op) {
        if (SteppedRecurrentKernel.applies(r, op.numLayers(), op.bidirectional(), op.batchFirst())) return SteppedRecurrentKernel.gru(r, op);
        int h = op.hiddenSize(), layers = op.numLayers(), dirs = op.bidirectional() ? 2 : 1;
        View x = RecurrentCode.logical(r.in(0), op.batchFirst()), out = RecurrentCode.logical(r.out(), op.batchFirst());
        int batch = x.dim(0), steps = x.dim(1);
        int wg = RecurrentCode.workGroup(r, h, 7L * h, 3L * h);
        long[] local = {wg};
        int base = op.hasInitialState() ? 2 : 1;
        String both = RecurrentCode.BARRIER;

        StringBuilder b = new StringBuilder("// gru: ").append(layers).append(" layers, ").append(dirs).append(" directions, hidden ").append(h)
                .append(", ").append(steps).append(" steps, one work-group of ").append(wg).append(" per batch element\n");
        b.append(r.header(local)).append(" {\n");
        b.append("    const int b = get_group_id(0), lid = get_local_id(0);\n");
        b.append("    __local float h[").append(h).append("];\n");
        b.append("    __local float gi[").append(3 * h).append("];\n");
        b.append("    __local float gh[").append(3 * h).append("];\n");
        for (int layer = 0; layer < layers; layer++)
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (layer * dirs + d), state = layer * dirs + d;
                View wih = r.in(w), whh = r.in(w + 1), bih = r.in(w + 2), bhh = r.in(w + 3);
                View input = layer == 0 ? x : out;
                int features = wih.dim(1);
                b.append("    {  // layer ").append(layer).append(d == 1 ? ", reverse" : "").append('\n');
                b.append("    for (int j = lid; j < ").append(h).append("; j += ").append(wg).append(") h[j] = ")
                        .append(op.hasInitialState() ? r.in(1).at(String.valueOf(state), "b", "j") : "0.0f").append(";\n");
                b.append("    ").append(both);
                b.append("    for (int s = 0; s < ").append(steps).append("; s++) {\n");
                b.append("        const int t = ").append(d == 1 ? (steps - 1) + " - s" : "s").append(";\n");
                b.append("        for (int row = lid; row < ").append(3 * h).append("; row += ").append(wg).append(") {\n");
                b.append("            float ai = ").append(bih.at("row")).append(", ah = ").append(bhh.at("row")).append(";\n");
                b.append("            for (int f = 0; f < ").append(features).append("; f++) ai = fma(")
                        .append(wih.at("row", "f")).append(", ").append(input.at("b", "t", "f")).append(", ai);\n");
                b.append("            for (int j = 0; j < ").append(h).append("; j++) ah = fma(").append(whh.at("row", "j")).append(", h[j], ah);\n");
                b.append("            gi[row] = ai;\n            gh[row] = ah;\n");
                b.append("        }\n        ").append(both);
                b.append("        for (int j = lid; j < ").append(h).append("; j += ").append(wg).append(") {\n");
                b.append("            const float rg = ").append(Code.activation(Act.SIGMOID, "gi[j] + gh[j]")).append(";\n");
                b.append("            const float zg = ").append(Code.activation(Act.SIGMOID, "gi[" + h + " + j] + gh[" + h + " + j]")).append(";\n");
                b.append("            const float ng = ").append(Code.activation(Act.TANH, "fma(rg, gh[" + 2 * h + " + j], gi[" + 2 * h + " + j])")).append(";\n");
                b.append("            const float hn = (1.0f - zg) * ng + zg * h[j];\n");
                b.append("            h[j] = hn;\n");
                b.append("            ").append(out.at("b", "t", "(" + d * h + " + j)")).append(" = hn;\n");
                b.append("        }\n        ").append(both);
                b.append("    }\n    }\n");
            }
        b.append("}\n");
        return r.kernel(b.toString(), new long[]{(long) batch * wg}, local);
    }
}
