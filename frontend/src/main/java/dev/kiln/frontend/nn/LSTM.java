package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Lstm;

/**
 * torch.nn.LSTM with zero initial state. Parameters per layer l: weight_ih_l{l}, weight_hh_l{l},
 * bias_ih_l{l}, bias_hh_l{l}. forward returns the output sequence (PyTorch's {@code output},
 * the first element of its tuple); take the last step with {@code y.select(1, -1)}.
 */
public final class LSTM extends Module {
    private final int inputSize, hidden, layers;
    private boolean batchFirst;

    public LSTM(int inputSize, int hiddenSize, int numLayers) {
        this.inputSize = inputSize;
        this.hidden = hiddenSize;
        this.layers = numLayers;
        for (int l = 0; l < numLayers; l++) {
            int in = l == 0 ? inputSize : hiddenSize;
            parameter("weight_ih_l" + l, Shape.of(4 * hiddenSize, in), Init.fanIn(Shape.of(4 * hiddenSize, in), hiddenSize));
            parameter("weight_hh_l" + l, Shape.of(4 * hiddenSize, hiddenSize), Init.fanIn(Shape.of(4 * hiddenSize, hiddenSize), hiddenSize));
            parameter("bias_ih_l" + l, Shape.of(4 * hiddenSize), Init.fanIn(Shape.of(4 * hiddenSize), hiddenSize));
            parameter("bias_hh_l" + l, Shape.of(4 * hiddenSize), Init.fanIn(Shape.of(4 * hiddenSize), hiddenSize));
        }
    }

    public LSTM batchFirst(boolean b) { batchFirst = b; return this; }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(2) != inputSize)
            throw new dev.kiln.ir.ShapeException("at " + path() + ": LSTM expects input [" + (batchFirst ? "B,T," : "T,B,") + inputSize + "], got " + x.type());
        Tensor[] in = new Tensor[1 + 4 * layers];
        in[0] = x;
        for (int l = 0; l < layers; l++) {
            in[1 + 4 * l] = param("weight_ih_l" + l);
            in[2 + 4 * l] = param("weight_hh_l" + l);
            in[3 + 4 * l] = param("bias_ih_l" + l);
            in[4 + 4 * l] = param("bias_hh_l" + l);
        }
        return call(new Lstm(hidden, layers, batchFirst, false), in);
    }
}
