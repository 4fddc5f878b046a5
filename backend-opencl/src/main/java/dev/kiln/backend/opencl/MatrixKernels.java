package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Epilogue;

import java.util.Arrays;

/**
 * Linear (x · weightᵀ + bias, epilogue fused) and batched MatMul (with NumPy broadcasting of the
 * batch axes), both through the tiled {@link GemmKernel}.
 */
final class MatrixKernels {
    private MatrixKernels() {}

    /** Linear: operands x[..., K], weight[N, K], optional bias[N], extra (result-shaped) when its epilogue reads one. */
    static Kernel linear(KernelRequest r, boolean hasBias, Epilogue epi) {
        View x = r.in(0), w = r.in(1), y = r.out();
        int k = w.dim(1), n = w.dim(0);
        int[] lead = Arrays.copyOf(x.dims(), x.rank() - 1);
        int rows = 1;
        for (int d : lead) rows *= d;
        GemmKernel.Shape s = new GemmKernel.Shape(1, rows, n, k);
        GemmKernel.Operands ops = new GemmKernel.Operands() {
            @Override public String loadA() { return "v = " + x.at(with(Code.unravel("m", lead), "k")) + ";"; }
            @Override public String loadB() { return "v = " + w.at("n", "k") + ";"; }

            @Override public String store(String value) {
                String[] at = with(Code.unravel("m", lead), "n");
                String t = hasBias ? value + " + " + r.in(2).at("n") : value;
                String extra = epi.hasExtra() ? r.in(r.in().size() - 1).at(at) : null;
                return y.at(at) + " = " + Code.epilogue(t, epi, extra) + ";";
            }

            @Override public boolean aAlongK() { return true; }
            @Override public boolean bAlongK() { return true; }
        };
        View a = x.isContiguous() ? CpuDeviceGemm.rank3(x.reshape(new int[]{rows, k})) : lead.length == 1 ? CpuDeviceGemm.rank3(x) : null;
        return GemmKernel.gemm(r, s, ops, new CpuDeviceGemm.Direct(a, CpuDeviceGemm.rank3(w.swapLastTwo())), false);
    }

    /** a[..., M, K] · b[..., K, N]: one GEMM per (broadcast) batch index, then the epilogue (extra: the third operand). */
    static Kernel matMul(KernelRequest r, Epilogue epi) {
        View y = r.out();
        int rank = y.rank(), m = y.dim(rank - 2), n = y.dim(rank - 1), k = r.in(0).dim(r.in(0).rank() - 1);
        int[] batch = Arrays.copyOf(y.dims(), rank - 2);
        int batches = 1;
        for (int d : batch) batches *= d;
        View a = r.in(0).broadcastTo(with(batch, m, k)), b = r.in(1).broadcastTo(with(batch, k, n));
        GemmKernel.Shape s = new GemmKernel.Shape(batches, m, n, k);
        GemmKernel.Operands ops = new GemmKernel.Operands() {
            @Override public String loadA() { return "v = " + a.at(with(Code.unravel("b", batch), "m", "k")) + ";"; }
            @Override public String loadB() { return "v = " + b.at(with(Code.unravel("b", batch), "k", "n")) + ";"; }
            @Override public String store(String value) {
                String[] at = with(Code.unravel("b", batch), "m", "n");
                String extra = epi.hasExtra() ? r.in(2).at(at) : null;
                return y.at(at) + " = " + Code.epilogue(value, epi, extra) + ";";
            }
            @Override public boolean aAlongK() { return true; }
            @Override public boolean bAlongK() { return false; }
        };
        return GemmKernel.gemm(r, s, ops, new CpuDeviceGemm.Direct(CpuDeviceGemm.rank3(a), CpuDeviceGemm.rank3(b)), false);
    }

    private static String[] with(String[] head, String... tail) {
        String[] out = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    private static int[] with(int[] head, int... tail) {
        int[] out = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }
}
