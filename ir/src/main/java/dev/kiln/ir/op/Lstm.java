package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Multi-layer LSTM as PyTorch's nn.LSTM (gate order i, f, g, o), returning the last layer's
 * hidden state at every step: [B,T,D·H] when batchFirst, else [T,B,D·H], D = 2 when
 * bidirectional (the forward direction's h, then the reverse one's, as PyTorch).
 *
 * <p>Operands (see {@link RecurrentLayers}): x, then h0[L·D,B,H] and c0[L·D,B,H] when
 * hasInitialState (zeros otherwise), then per layer l and direction: weight_ih[4H, in_l],
 * weight_hh[4H, H], bias_ih[4H], bias_hh[4H] (in_0 = input features, in_l = H after). A
 * bidirectional op has one layer.
 */
public record Lstm(int hiddenSize, int numLayers, boolean batchFirst, boolean hasInitialState, boolean bidirectional) implements Op, Recurrent {
    public Lstm {
        RecurrentLayers.checkAttributes(hiddenSize, numLayers, bidirectional);
    }

    /** A one-direction LSTM. */
    public Lstm(int hiddenSize, int numLayers, boolean batchFirst, boolean hasInitialState) {
        this(hiddenSize, numLayers, batchFirst, hasInitialState, false);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        return RecurrentLayers.inferType(this, in, 4, 2, hiddenSize, numLayers, batchFirst, hasInitialState, bidirectional);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) { return evaluate(in, state -> {}); }

    @Override public HostTensor evaluate(List<HostTensor> in, java.util.function.Consumer<double[]> afterStep) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        int h = hiddenSize;
        return RecurrentLayers.evaluate(in, out, 4, 2, h, numLayers, batchFirst, hasInitialState, bidirectional, afterStep, (gi, gh, hs, cs) -> {
            // every gate, c and h is an f32 value, as in an f32 LSTM: in double σ(−200) is
            // 1e-87 and σ(−200)·∞ = ∞, but the f32 gate is 0 and 0·∞ is NaN
            for (int j = 0; j < h; j++) {
                double i = (float) ScalarMath.sigmoid((float) (gi[j] + gh[j]));
                double f = (float) ScalarMath.sigmoid((float) (gi[h + j] + gh[h + j]));
                double g = (float) Math.tanh((float) (gi[2 * h + j] + gh[2 * h + j]));
                double o = (float) ScalarMath.sigmoid((float) (gi[3 * h + j] + gh[3 * h + j]));
                cs[j] = (float) (f * cs[j] + i * g);
                hs[j] = (float) (o * (float) Math.tanh(cs[j]));
            }
        });
    }
}
