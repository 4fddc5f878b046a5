package dev.kiln.backend.opencl;

import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.ConvTranspose2d;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.FusedExpandDwPwConv;
import dev.kiln.ir.op.LayerNorm;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.ResidualLayerNorm;
import dev.kiln.ir.op.Pad;
import dev.kiln.ir.op.Resize;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Scale;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import dev.kiln.ir.op.Where;
import dev.kiln.ir.op.Gather;
import dev.kiln.ir.op.CumSum;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns each node of a graph into one kernel: the views of its operands and result come from
 * the {@link DeviceLayout}, the kernel from the generator of its op family. The switch has no
 * default, so a new op is a compile error here until it has a lowering.
 */
final class Lowering {
    private Lowering() {}

    static List<Kernel> lower(DeviceLayout layout, DeviceLimits limits) {
        List<Kernel> kernels = new ArrayList<>();
        List<Node> nodes = layout.graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            List<View> in = new ArrayList<>();
            for (int j = 0; j < n.inputs().size(); j++) in.add(layout.of(n.inputs().get(j)).view("in" + j));
            String name = "k" + i + "_" + n.op().mnemonic();
            if (layout.plan.isAlias(n.name())) {
                // a reshape aliasing its operand (see MemoryPlan): its storage is the operand's, nothing to run.
                // Reshapes of graph inputs, into graph outputs or across a halo still get a copy kernel.
                kernels.add(Kernel.notLaunched(name, n, "// %" + n.name() + " is an alias of %" + layout.plan.aliasOf(n.name()) + "\n"));
                continue;
            }
            KernelRequest r = new KernelRequest(name, n, in, layout.of(n.name()).view("out"), limits);
            try {
                kernels.add(lower(r));
            } catch (UnsupportedOpException e) {
                // a generator's refusal that does not say which node is given its name and origin here
                if (e.getMessage() != null && e.getMessage().contains(n.describe())) throw e;
                throw new UnsupportedOpException(n.describe() + ": " + e.getMessage(), e);
            }
        }
        return kernels;
    }

    static Kernel lower(KernelRequest r) {
        Node n = r.node();
        return switch (n.op()) {
            case Conv2d c when c.epilogue().pool() != null -> PooledConvKernel.generate(r, c, n.inputs().size() >= 3);
            case Conv2d c -> ConvKernels.conv(r, new ConvKernels.Conv(c.stride().toArray(), c.padding().toArray(), c.dilation().toArray(), c.groups(),
                    n.inputs().size() >= 3, c.epilogue()));
            case ConvTranspose2d c -> ConvTransposeKernel.generate(r, c);
            case FusedDwPwConv f -> ConvKernels.dwPw(r, f);
            case FusedExpandDwPwConv f -> ExpandDwPwKernels.generate(r, f);
            case Linear l -> MatrixKernels.linear(r, n.inputs().size() >= 3, l.epilogue());
            case MatMul m -> MatrixKernels.matMul(r, m.epilogue());
            case FusedAttention f -> AttentionKernel.generate(r, f);
            case Lstm l -> LstmKernel.generate(r, l);
            case Gru g -> GruKernel.generate(r, g);
            case Softmax s -> SoftmaxKernel.generate(r, s);
            case Unary u -> MapKernels.unary(r, u);
            case Binary b -> MapKernels.binary(r, b);
            case Where w -> MapKernels.where(r);
            case Scale s -> MapKernels.scale(r, s);
            case BatchNorm2d bn -> MapKernels.batchNorm(r, bn);
            case Reshape rs -> MapKernels.reshape(r);
            case Transpose t -> MapKernels.transpose(r, t);
            case Slice s -> MapKernels.slice(r, s);
            case Concat c -> MapKernels.concat(r, c);
            case Pad p -> PadKernels.pad(r, p);
            case Resize rs -> ResizeKernels.resize(r, rs);
            case MaxPool2d mp -> MapKernels.maxPool(r, mp);
            case AvgPool2d ap -> MapKernels.avgPool(r, ap);
            case Reduce rd -> ReduceKernel.generate(r, rd);
            case LayerNorm ln -> LayerNormKernel.generate(r, ln);
            case Gather g -> IndexKernels.gather(r, g);
            case CumSum c -> IndexKernels.cumSum(r, c);
            case ResidualLayerNorm ln -> LayerNormKernel.generate(r, ln);
        };
    }

    /** The program: the prelude once, then every kernel. */
    static String program(List<Kernel> kernels) {
        StringBuilder b = new StringBuilder(Code.PRELUDE);
        for (Kernel k : kernels) {
            if (k.isEmpty()) continue;
            b.append("\n// ").append(Code.comment(k.node().describe())).append('\n').append(k.source());
        }
        return b.toString();
    }
}
