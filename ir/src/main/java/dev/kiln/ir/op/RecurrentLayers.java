package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * What {@link Lstm} and {@link Gru} share: their operand layout (PyTorch's state_dict order), their
 * shape rule and the loop of their reference semantics over layers, directions, steps and batch
 * rows. Only the cell (how the gate pre-activations update h, and c for an LSTM) differs.
 *
 * <p>Operands: x, then one initial-state tensor [L·D, B, H] per state (h0, and c0 for an LSTM)
 * when hasInitialState, then per layer l and direction d (forward, then reverse when
 * bidirectional): weight_ih_l{l}[GH, in_l], weight_hh_l{l}[GH, H], bias_ih_l{l}[GH],
 * bias_hh_l{l}[GH], G being the number of gates. The result is every step's h of the last layer,
 * both directions side by side: [T, B, D·H] ([B, T, D·H] when batchFirst).
 */
final class RecurrentLayers {
    private RecurrentLayers() {}

    /** The gate math of one step for one batch row. */
    interface Cell {
        /**
         * gi = W_ih·x + b_ih and gh = W_hh·h + b_hh (unrounded, in double), h and c the row's states
         * (c unused by cells without one), updated in place.
         */
        void step(double[] gi, double[] gh, double[] h, double[] c);
    }

    static String[] stateNames(int states) { return states == 2 ? new String[]{"h0", "c0"} : new String[]{"h0"}; }

    static int weightBase(boolean hasInitialState, int states) { return hasInitialState ? 1 + states : 1; }

    static int directions(boolean bidirectional) { return bidirectional ? 2 : 1; }

    static void checkAttributes(int hiddenSize, int numLayers, boolean bidirectional) {
        if (hiddenSize <= 0 || numLayers <= 0) throw new IllegalArgumentException("hiddenSize and numLayers must be positive");
        // the OpenCL kernels run a layer in place over the one below, which a reverse direction
        // would read after the forward one overwrote it: a bidirectional stack is a chain of one-layer ops
        if (bidirectional && numLayers > 1)
            throw new IllegalArgumentException("a bidirectional op has one layer (stack bidirectional layers as a chain of ops), got numLayers=" + numLayers);
    }

    static TensorType inferType(Op op, List<TensorType> in, int gates, int states, int h, int layers, boolean batchFirst,
                                boolean init, boolean bidirectional) {
        int dirs = directions(bidirectional), base = weightBase(init, states), expected = base + 4 * layers * dirs;
        Checks.arity(op, in, expected, expected);
        TensorType x = in.get(0);
        Checks.rank(op, "input", x, 3);
        int b = batchFirst ? x.dim(0) : x.dim(1), t = batchFirst ? x.dim(1) : x.dim(0);
        if (init)
            for (int s = 0; s < states; s++)
                Checks.require(in.get(1 + s).equals(TensorType.f32(layers * dirs, b, h)), op,
                        stateNames(states)[s] + " " + in.get(1 + s) + " must be [" + layers * dirs + "," + b + "," + h + "]");
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < dirs; d++) {
                int feat = l == 0 ? x.dim(2) : dirs * h, w = base + 4 * (l * dirs + d);
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                expect(op, in.get(w), TensorType.f32(gates * h, feat), "weight_ih" + sfx);
                expect(op, in.get(w + 1), TensorType.f32(gates * h, h), "weight_hh" + sfx);
                expect(op, in.get(w + 2), TensorType.f32(gates * h), "bias_ih" + sfx);
                expect(op, in.get(w + 3), TensorType.f32(gates * h), "bias_hh" + sfx);
            }
        return batchFirst ? TensorType.f32(b, t, dirs * h) : TensorType.f32(t, b, dirs * h);
    }

    private static void expect(Op op, TensorType got, TensorType want, String name) {
        Checks.require(got.equals(want), op, name + " is " + got + ", expected " + want);
    }

    /** The reference loop: plain loops, products summed in double, the cell rounding as an f32 cell does. */
    static HostTensor evaluate(List<HostTensor> in, TensorType out, int gates, int states, int h, int layers, boolean batchFirst,
                               boolean init, boolean bidirectional, java.util.function.Consumer<double[]> afterStep, Cell cell) {
        TensorType xt = in.get(0).type();
        int bsz = batchFirst ? xt.dim(0) : xt.dim(1), steps = batchFirst ? xt.dim(1) : xt.dim(0), feat = xt.dim(2);
        int dirs = directions(bidirectional), base = weightBase(init, states), gh = gates * h;
        // seq[t][b][f]: the current layer's input sequence
        double[][][] seq = new double[steps][bsz][feat];
        float[] x = in.get(0).data();
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < bsz; b++)
                for (int f = 0; f < feat; f++)
                    seq[t][b][f] = x[(batchFirst ? b * steps + t : t * bsz + b) * feat + f];
        for (int l = 0; l < layers; l++) {
            double[][][] next = new double[steps][bsz][dirs * h];
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (l * dirs + d), inF = seq[0][0].length, sd = l * dirs + d;
                float[] wih = in.get(w).data(), whh = in.get(w + 1).data(), bih = in.get(w + 2).data(), bhh = in.get(w + 3).data();
                for (int b = 0; b < bsz; b++) {
                    double[] hs = new double[h], cs = new double[h], gi = new double[gh], gg = new double[gh];
                    if (init)
                        for (int j = 0; j < h; j++) {
                            hs[j] = in.get(1).data()[(sd * bsz + b) * h + j];
                            if (states == 2) cs[j] = in.get(2).data()[(sd * bsz + b) * h + j];
                        }
                    for (int s = 0; s < steps; s++) {
                        int t = d == 0 ? s : steps - 1 - s;
                        for (int r = 0; r < gh; r++) {
                            double ai = bih[r], ah = bhh[r];
                            for (int f = 0; f < inF; f++) ai += (double) wih[r * inF + f] * seq[t][b][f];
                            for (int j = 0; j < h; j++) ah += (double) whh[r * h + j] * hs[j];
                            gi[r] = ai;
                            gg[r] = ah;
                        }
                        cell.step(gi, gg, hs, cs);
                        afterStep.accept(hs);
                        if (states == 2) afterStep.accept(cs);
                        System.arraycopy(hs, 0, next[t][b], d * h, h);
                    }
                }
            }
            seq = next;
        }
        float[] y = new float[out.shape().elementCount()];
        int oh = dirs * h;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < bsz; b++)
                for (int j = 0; j < oh; j++)
                    y[(batchFirst ? b * steps + t : t * bsz + b) * oh + j] = (float) seq[t][b][j];
        return HostTensor.of(out.shape(), y);
    }
}
