package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * Fully connected layer as PyTorch's nn.Linear (ONNX Gemm with transB=1), then its epilogue:
 * x[..., K] · weightᵀ + bias, with weight[N,K] and optional bias[N]; when the epilogue reads an
 * extra operand (result-shaped) it comes fourth, after a bias that is then required. Result [..., N].
 */
public record Linear(Epilogue epilogue) implements Op, EpilogueAnchor {
    @Override public Linear withEpilogue(Epilogue e) { return new Linear(e); }
    @Override public int biasOperand() { return 2; }
    @Override public int biasAxis(int rank) { return rank - 1; }

    /** A plain linear layer. */
    public Linear() { this(Epilogue.NONE); }

    public Linear { java.util.Objects.requireNonNull(epilogue, "epilogue"); }

    @Override public TensorType inferType(List<TensorType> in) {
        if (epilogue.hasExtra()) {
            Checks.arity(this, in, 4, 4);
            TensorType out = new Linear().inferType(in.subList(0, 3));
            epilogue.checkExtra(this, in, out);
            return out;
        }
        Checks.arity(this, in, 2, 3);
        TensorType x = in.get(0), w = in.get(1);
        Checks.require(x.rank() >= 1, this, "input must have rank >= 1, got " + x);
        Checks.rank(this, "weight", w, 2);
        Checks.require(x.dim(-1) == w.dim(1), this,
                "input features " + x.dim(-1) + " of " + x + " do not match weight " + w + " (expects " + w.dim(1) + ")");
        if (in.size() == 3)
            Checks.require(in.get(2).rank() == 1 && in.get(2).dim(0) == w.dim(0), this, "bias " + in.get(2) + " must be [" + w.dim(0) + "]");
        int[] d = x.shape().dims();
        d[d.length - 1] = w.dim(0);
        return TensorType.f32(d);
    }

    @Override public HostTensor evaluate(List<HostTensor> in) {
        Shape out = inferType(in.stream().map(HostTensor::type).toList()).shape();
        if (!epilogue.isNone())
            return epilogue.apply(new Linear().evaluate(in.subList(0, in.size() - epilogue.extraOperands())), epilogue.hasExtra() ? in.getLast() : null);
        float[] x = in.get(0).data(), w = in.get(1).data(), b = in.size() == 3 ? in.get(2).data() : null;
        int k = in.get(1).shape().dim(1), n = in.get(1).shape().dim(0), rows = x.length / k;
        float[] y = new float[out.elementCount()];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) {
                double acc = b == null ? 0 : b[j];
                for (int q = 0; q < k; q++) acc += (double) x[r * k + q] * w[j * k + q];
                y[r * n + j] = (float) acc;
            }
        return HostTensor.of(out, y);
    }
}
