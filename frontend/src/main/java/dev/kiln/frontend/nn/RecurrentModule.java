package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Op;

/**
 * What {@link LSTM} and {@link GRU} share: PyTorch's parameters (per layer l and direction:
 * weight_ih_l{l}[_reverse], weight_hh_l{l}[_reverse], bias_ih_l{l}[_reverse],
 * bias_hh_l{l}[_reverse], in that order, initialised U(−1/√H, 1/√H) as PyTorch does) and a
 * forward from zero state returning PyTorch's {@code output}. A one-direction stack is one op;
 * a bidirectional stack is one op per layer (each layer reads both directions of the one below).
 */
abstract class RecurrentModule extends Module {
    private final int inputSize, hidden, layers, gates;
    private boolean batchFirst, bidirectional;

    RecurrentModule(int inputSize, int hiddenSize, int numLayers, int gates) {
        if (inputSize <= 0 || hiddenSize <= 0 || numLayers <= 0)
            throw new IllegalArgumentException("input size, hidden size and layers must be positive, got " + inputSize + ", " + hiddenSize + ", " + numLayers);
        this.inputSize = inputSize;
        this.hidden = hiddenSize;
        this.layers = numLayers;
        this.gates = gates;
        declare();
    }

    /** The op of `opLayers` layers (all of them, or one when bidirectional) from zero state. */
    abstract Op op(int hiddenSize, int opLayers, boolean batchFirst, boolean bidirectional);

    abstract String kind();

    final void setBatchFirst(boolean b) { batchFirst = b; }

    final void setBidirectional(boolean b) {
        bidirectional = b;
        declare();
    }

    private int dirs() { return bidirectional ? 2 : 1; }

    private static String name(String what, int l, int d) { return what + "_l" + l + (d == 1 ? "_reverse" : ""); }

    /** (Re)declares every parameter in PyTorch's state_dict order. */
    private void declare() {
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < 2; d++)
                for (String w : new String[]{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) removeParameter(name(w, l, d));
        int gh = gates * hidden;
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < dirs(); d++) {
                int in = l == 0 ? inputSize : dirs() * hidden;
                parameter(name("weight_ih", l, d), Shape.of(gh, in), Init.fanIn(Shape.of(gh, in), hidden));
                parameter(name("weight_hh", l, d), Shape.of(gh, hidden), Init.fanIn(Shape.of(gh, hidden), hidden));
                parameter(name("bias_ih", l, d), Shape.of(gh), Init.fanIn(Shape.of(gh), hidden));
                parameter(name("bias_hh", l, d), Shape.of(gh), Init.fanIn(Shape.of(gh), hidden));
            }
    }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(2) != inputSize)
            throw new ShapeException("at " + path() + ": " + kind() + " expects input [" + (batchFirst ? "B,T," : "T,B,") + inputSize + "], got " + x.type());
        int perOp = bidirectional ? 1 : layers;
        Tensor y = x;
        for (int first = 0; first < layers; first += perOp) {
            Tensor[] in = new Tensor[1 + 4 * perOp * dirs()];
            in[0] = y;
            int k = 1;
            for (int l = first; l < first + perOp; l++)
                for (int d = 0; d < dirs(); d++)
                    for (String w : new String[]{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) in[k++] = param(name(w, l, d));
            y = call(op(hidden, perOp, batchFirst, bidirectional), in);
        }
        return y;
    }
}
