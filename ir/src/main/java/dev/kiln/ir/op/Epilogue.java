package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;

/** Reference application of a fused epilogue on an already biased result. */
final class Epilogue {
    private Epilogue() {}

    static HostTensor apply(HostTensor t, Act act, Combine combine, HostTensor extra) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++)
            d[i] = (float) combine.epilogue(d[i], act, extra == null ? 0 : extra.data()[i]);
        return HostTensor.of(t.shape(), d);
    }
}
