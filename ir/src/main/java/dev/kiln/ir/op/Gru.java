package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Multi-layer GRU as PyTorch's nn.GRU (gate order r, z, n; the reset gate applied after the
 * recurrent product, ONNX's linear_before_reset=1):
 * r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz),
 * n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)), h' = (1 − z)⊙n + z⊙h.
 * Returns the last layer's h at every step: [B,T,D·H] when batchFirst, else [T,B,D·H], D = 2
 * when bidirectional (forward h, then reverse h).
 *
 * <p>Operands (see {@link RecurrentLayers}): x, then h0[L·D,B,H] when hasInitialState (zeros
 * otherwise), then per layer l and direction: weight_ih[3H, in_l], weight_hh[3H, H],
 * bias_ih[3H], bias_hh[3H]. A bidirectional op has one layer.
 */
public record Gru(int hiddenSize, int numLayers, boolean batchFirst, boolean hasInitialState, boolean bidirectional) implements Op, Recurrent {
    public Gru {
        RecurrentLayers.checkAttributes(hiddenSize, numLayers, bidirectional);
    }

    @Override public TensorType inferType(List<TensorType> in) {
        return RecurrentLayers.inferType(this, in, 3, 1, hiddenSize, numLayers, batchFirst, hasInitialState, bidirectional);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) { return evaluate(in, state -> {}); }

    @Override public HostTensor evaluate(List<HostTensor> in, java.util.function.Consumer<double[]> afterStep) {
        TensorType out = inferType(in.stream().map(HostTensor::type).toList());
        int h = hiddenSize;
        return RecurrentLayers.evaluate(in, out, 3, 1, h, numLayers, batchFirst, hasInitialState, bidirectional, afterStep, (gi, gh, hs, cs) -> {
            // every gate and h rounded to f32 as in an f32 GRU (see Lstm for why that matters with ±∞)
            for (int j = 0; j < h; j++) {
                double r = (float) ScalarMath.sigmoid((float) (gi[j] + gh[j]));
                double z = (float) ScalarMath.sigmoid((float) (gi[h + j] + gh[h + j]));
                double n = (float) Math.tanh((float) (gi[2 * h + j] + r * (float) gh[2 * h + j]));
                hs[j] = (float) ((1 - z) * n + z * hs[j]);
            }
        });
    }
}
