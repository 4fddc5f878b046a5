package dev.kiln.frontend.nn;

import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Op;

/**
 * torch.nn.LSTM with zero initial state, optionally batch-first and bidirectional. Parameters
 * per layer l (and _reverse for the second direction): weight_ih_l{l}, weight_hh_l{l},
 * bias_ih_l{l}, bias_hh_l{l}. forward returns the output sequence (PyTorch's {@code output},
 * the first element of its tuple; [.., 2H] when bidirectional); take the last step with
 * {@code y.select(1, -1)}.
 */
public final class LSTM extends RecurrentModule {
    public LSTM(int inputSize, int hiddenSize, int numLayers) { super(inputSize, hiddenSize, numLayers, 4); }

    public LSTM batchFirst(boolean b) { setBatchFirst(b); return this; }

    public LSTM bidirectional(boolean b) { setBidirectional(b); return this; }

    @Override Op op(int hiddenSize, int layers, boolean batchFirst, boolean bidirectional) {
        return new Lstm(hiddenSize, layers, batchFirst, false, bidirectional);
    }

    @Override String kind() { return "LSTM"; }
}
