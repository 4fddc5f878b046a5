package dev.kiln.frontend.nn;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Gather;

/**
 * torch.nn.Embedding: weight[num, dim] (state_dict name {@code weight}), looked up by integer ids
 * of any shape [..] into [.., dim]. Initialised N(0, 1) as PyTorch does, with the padding row zero
 * when a padding index is set. An id outside [−num, num) is an InvalidIndexException at run time
 * (a negative id counts from the end, as ONNX Gather has it; PyTorch refuses negative ids).
 * A model whose input is token ids takes an i64 input ({@link #inputDType}).
 */
public final class Embedding extends Module {
    private final int num, dim;
    private int paddingIdx = -1;

    public Embedding(int num, int dim) {
        if (num <= 0 || dim <= 0) throw new IllegalArgumentException("an embedding needs positive sizes, got " + num + " x " + dim);
        this.num = num;
        this.dim = dim;
        declare();
    }

    /** PyTorch's padding_idx: that row starts as zeros (what it learns is whatever the loaded weights say). */
    public Embedding paddingIdx(int idx) {
        if (idx < -num || idx >= num) throw new IllegalArgumentException("padding index " + idx + " is outside [" + -num + ", " + num + ")");
        paddingIdx = idx < 0 ? idx + num : idx;
        declare();
        return this;
    }

    private void declare() {
        Shape s = Shape.of(num, dim);
        int pad = paddingIdx;
        parameter("weight", s, seed -> {
            HostTensor w = HostTensor.normal(s, seed);
            if (pad >= 0) java.util.Arrays.fill(w.data(), pad * dim, (pad + 1) * dim, 0f);
            return w;
        });
    }

    @Override public DType inputDType() { return DType.I64; }

    @Override public Tensor forward(Tensor ids) { return call(new Gather(0), param("weight"), ids); }
}
