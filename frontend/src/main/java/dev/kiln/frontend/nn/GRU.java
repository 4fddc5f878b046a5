package dev.kiln.frontend.nn;

import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Op;

/**
 * torch.nn.GRU with zero initial state, optionally batch-first and bidirectional. Parameters
 * per layer l (and _reverse for the second direction): weight_ih_l{l}, weight_hh_l{l},
 * bias_ih_l{l}, bias_hh_l{l}, gates in PyTorch's order r, z, n. forward returns the output
 * sequence (PyTorch's {@code output}; [.., 2H] when bidirectional).
 */
public final class GRU extends RecurrentModule {
    public GRU(int inputSize, int hiddenSize, int numLayers) { super(inputSize, hiddenSize, numLayers, 3); }

    public GRU batchFirst(boolean b) { setBatchFirst(b); return this; }

    public GRU bidirectional(boolean b) { setBidirectional(b); return this; }

    @Override Op op(int hiddenSize, int layers, boolean batchFirst, boolean bidirectional) {
        return new Gru(hiddenSize, layers, batchFirst, false, bidirectional);
    }

    @Override String kind() { return "GRU"; }
}
