package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.LSTM;
import dev.kiln.frontend.nn.Linear;

/** A 2-layer batch-first LSTM and a linear layer on the last time step. */
public final class LstmClassifier extends Module {
    final LSTM lstm;
    final Linear fc;

    public LstmClassifier(int inputSize, int hiddenSize, int classes) {
        lstm = register("lstm", new LSTM(inputSize, hiddenSize, 2).batchFirst(true));
        fc = register("fc", new Linear(hiddenSize, classes));
    }

    @Override public Tensor forward(Tensor x) { return fc.apply(lstm.apply(x).select(1, -1)); }
}
