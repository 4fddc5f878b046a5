package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Multi-layer LSTM as PyTorch's nn.LSTM (gate order i, f, g, o), returning the last layer's
 * hidden state at every step: [B,T,H] when batchFirst, else [T,B,H].
 *
 * <p>Operands: x, then h0[L,B,H] and c0[L,B,H] when hasInitialState (zeros otherwise), then
 * per layer l: weight_ih[4H, in_l], weight_hh[4H, H], bias_ih[4H], bias_hh[4H]
 * (in_0 = input features, in_l = H after).
 */
public record Lstm(int hiddenSize, int numLayers, boolean batchFirst, boolean hasInitialState) implements Op {
    public Lstm {
        if (hiddenSize <= 0 || numLayers <= 0) throw new IllegalArgumentException("hiddenSize and numLayers must be positive");
    }

    private int weightBase() { return hasInitialState ? 3 : 1; }

    @Override public TensorType inferType(List<TensorType> in) {
        int expected = weightBase() + 4 * numLayers;
        Checks.arity(this, in, expected, expected);
        TensorType x = in.get(0);
        Checks.rank(this, "input", x, 3);
        int b = batchFirst ? x.dim(0) : x.dim(1), t = batchFirst ? x.dim(1) : x.dim(0), h = hiddenSize;
        if (hasInitialState)
            for (int s = 1; s <= 2; s++)
                Checks.require(in.get(s).equals(TensorType.f32(numLayers, b, h)), this,
                        (s == 1 ? "h0 " : "c0 ") + in.get(s) + " must be [" + numLayers + "," + b + "," + h + "]");
        for (int l = 0; l < numLayers; l++) {
            int feat = l == 0 ? x.dim(2) : h, w = weightBase() + 4 * l;
            expect(in.get(w), TensorType.f32(4 * h, feat), "weight_ih_l" + l);
            expect(in.get(w + 1), TensorType.f32(4 * h, h), "weight_hh_l" + l);
            expect(in.get(w + 2), TensorType.f32(4 * h), "bias_ih_l" + l);
            expect(in.get(w + 3), TensorType.f32(4 * h), "bias_hh_l" + l);
        }
        return batchFirst ? TensorType.f32(b, t, h) : TensorType.f32(t, b, h);
    }

    private void expect(TensorType got, TensorType want, String name) {
        Checks.require(got.equals(want), this, name + " is " + got + ", expected " + want);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        TensorType xt = in.get(0).type();
        int bsz = batchFirst ? xt.dim(0) : xt.dim(1), steps = batchFirst ? xt.dim(1) : xt.dim(0), h = hiddenSize;
        // seq[t][b][f]: the current layer's input sequence
        int feat = xt.dim(2);
        double[][][] seq = new double[steps][bsz][feat];
        float[] x = in.get(0).data();
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < bsz; b++)
                for (int f = 0; f < feat; f++)
                    seq[t][b][f] = x[((batchFirst ? b * steps + t : t * bsz + b)) * feat + f];
        for (int l = 0; l < numLayers; l++) {
            int w = weightBase() + 4 * l, inF = seq[0][0].length;
            float[] wih = in.get(w).data(), whh = in.get(w + 1).data(), bih = in.get(w + 2).data(), bhh = in.get(w + 3).data();
            double[][] hs = new double[bsz][h], cs = new double[bsz][h];
            if (hasInitialState)
                for (int b = 0; b < bsz; b++)
                    for (int j = 0; j < h; j++) {
                        hs[b][j] = in.get(1).data()[(l * bsz + b) * h + j];
                        cs[b][j] = in.get(2).data()[(l * bsz + b) * h + j];
                    }
            double[][][] next = new double[steps][bsz][h];
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < bsz; b++) {
                    double[] gates = new double[4 * h];
                    for (int r = 0; r < 4 * h; r++) {
                        double acc = (double) bih[r] + bhh[r];
                        for (int f = 0; f < inF; f++) acc += wih[r * inF + f] * seq[t][b][f];
                        for (int j = 0; j < h; j++) acc += whh[r * h + j] * hs[b][j];
                        gates[r] = (float) acc;
                    }
                    // every gate, c and h is an f32 value, as in an f32 LSTM: in double σ(−200) is
                    // 1e-87 and σ(−200)·∞ = ∞, but the f32 gate is 0 and 0·∞ is NaN
                    for (int j = 0; j < h; j++) {
                        double i = (float) ScalarMath.sigmoid(gates[j]), f = (float) ScalarMath.sigmoid(gates[h + j]);
                        double g = (float) Math.tanh(gates[2 * h + j]), o = (float) ScalarMath.sigmoid(gates[3 * h + j]);
                        cs[b][j] = (float) (f * cs[b][j] + i * g);
                        next[t][b][j] = (float) (o * (float) Math.tanh(cs[b][j]));
                    }
                    // the new h is used only from the next step on
                    if (b == bsz - 1) for (int bb = 0; bb < bsz; bb++) hs[bb] = next[t][bb].clone();
                }
            seq = next;
        }
        float[] y = new float[out.shape().elementCount()];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < bsz; b++)
                for (int j = 0; j < h; j++)
                    y[((batchFirst ? b * steps + t : t * bsz + b)) * h + j] = (float) seq[t][b][j];
        return HostTensor.of(out.shape(), y);
    }
}
