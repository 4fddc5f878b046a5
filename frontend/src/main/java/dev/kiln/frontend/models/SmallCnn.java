package dev.kiln.frontend.models;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Pooling.MaxPool2d;

/** conv(3→32)-ReLU-maxpool, conv(32→64)-ReLU-maxpool, flatten, linear(64·6·6→128)-ReLU-linear(128→10); input 3×24×24. */
public final class SmallCnn extends Module {
    final Conv2d conv1, conv2;
    final MaxPool2d pool;
    final Linear fc1, fc2;

    public SmallCnn() {
        conv1 = register("conv1", new Conv2d(3, 32, 3).padding(1));
        conv2 = register("conv2", new Conv2d(32, 64, 3).padding(1));
        pool = register("pool", new MaxPool2d(2));
        fc1 = register("fc1", new Linear(64 * 6 * 6, 128));
        fc2 = register("fc2", new Linear(128, 10));
    }

    @Override public Tensor forward(Tensor x) {
        x = pool.apply(conv1.apply(x).relu());
        x = pool.apply(conv2.apply(x).relu());
        x = x.flatten(1);
        return fc2.apply(fc1.apply(x).relu());
    }
}
