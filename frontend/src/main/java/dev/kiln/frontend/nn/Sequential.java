package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;

import java.util.ArrayList;
import java.util.List;

/** torch.nn.Sequential: children named "0", "1", ... applied in order. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) { for (Module m : modules) add(m); }

    public Sequential add(Module m) {
        layers.add(register(Integer.toString(layers.size()), m));
        return this;
    }

    /** The first layer's input type (i64 when it is an Embedding). */
    @Override public dev.kiln.ir.DType inputDType() { return layers.isEmpty() ? super.inputDType() : layers.getFirst().inputDType(); }

    @Override public Tensor forward(Tensor x) {
        for (Module m : layers) x = m.apply(x);
        return x;
    }
}
