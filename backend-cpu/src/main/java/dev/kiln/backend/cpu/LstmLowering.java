package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.GemmKernel;
import dev.kiln.backend.cpu.kernels.LstmKernel;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Lstm;

/**
 * LSTM: per layer, the input projection of every step at once as one GEMM, then the recurrent
 * steps with fused gate math. The input projection G = X·W_ihᵀ + (b_ih + b_hh) runs over all
 * T·B rows (W_ih packed into panels and the two biases summed here, at compile time) into arena
 * scratch; {@link LstmKernel} then walks the steps, adding h·W_hhᵀ and applying the gates.
 * Every layer writes its hidden states straight into the result: the next layer's projection
 * reads them from there before its own recurrence overwrites them, so no layer needs a buffer
 * of its own. Rows keep the order in which the sequence is stored (batchFirst or not) throughout.
 * A bidirectional op (one layer) runs its reverse recurrence in the same kernel as the forward
 * one, a task per direction and batch row, each writing its half of every row of the result.
 */
final class LstmLowering {
    private LstmLowering() {}

    static void lstm(LoweringContext ctx, Node n, Lstm l) {
        Placement x = GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().getFirst())), y = ctx.of(n.name());
        if (!y.isContiguous()) throw new UnsupportedOpException(n.describe() + ": the cpu backend needs a contiguous LSTM result");
        int[] xd = x.dims();
        int batch = l.batchFirst() ? xd[0] : xd[1], steps = l.batchFirst() ? xd[1] : xd[0], hid = l.hiddenSize();
        int dirs = l.bidirectional() ? 2 : 1;
        int rows = batch * steps, tiles = (4 * hid + GemmLowering.NR - 1) / GemmLowering.NR, gStride = tiles * GemmLowering.NR;
        Placement h0 = null, c0 = null;
        if (l.hasInitialState()) {
            h0 = GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(1)));
            c0 = GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(2)));
        }
        int base = l.hasInitialState() ? 3 : 1;
        // per direction d: G at g + d·rows·gStride; h and c of task k = d·B + b at hs + k·H and cs + k·H
        int g = ctx.scratch(dirs * rows * gStride), hs = ctx.scratch(dirs * batch * hid), cs = ctx.scratch(dirs * batch * hid);
        for (int layer = 0; layer < l.numLayers(); layer++) {
            Placement in = layer == 0 ? x : y;
            float[][] packed = new float[dirs][];
            // every direction's projection reads the layer's input before the recurrence writes y
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (layer * dirs + d);
                String sfx = "_l" + layer + (d == 1 ? "_reverse" : "");
                HostTensor wih = constant(ctx, n, w, "weight_ih" + sfx), whh = constant(ctx, n, w + 1, "weight_hh" + sfx);
                HostTensor bih = constant(ctx, n, w + 2, "bias_ih" + sfx), bhh = constant(ctx, n, w + 3, "bias_hh" + sfx);
                float[] bias = new float[4 * hid];
                for (int i = 0; i < bias.length; i++) bias[i] = (float) ((double) bih.data()[i] + bhh.data()[i]);
                inputProjection(ctx, n, layer + (d == 1 ? " reverse" : ""), in, wih, bias, rows, g + d * rows * gStride, gStride);
                packed[d] = GemmLowering.packPanels(whh);
            }
            int state = layer * dirs * batch * hid;
            Params p = Params.of().put("G_SLOT", LoweringContext.ARENA).put("G_OFF", g).put("G_RS", gStride).put("G_DIR", rows * gStride)
                    .put("W_SLOT", ctx.weight(concat(packed))).put("W_DIR", packed[0].length)
                    .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("DIRS", dirs)
                    .put("S_SLOT", LoweringContext.ARENA).put("HS_OFF", hs).put("CS_OFF", cs)
                    .put("INIT", l.hasInitialState() ? 1 : 0)
                    .put("H0_SLOT", h0 == null ? 0 : h0.slot()).put("H0_OFF", h0 == null ? 0 : h0.offset() + state)
                    .put("C0_SLOT", c0 == null ? 0 : c0.slot()).put("C0_OFF", c0 == null ? 0 : c0.offset() + state)
                    .put("HID", hid).put("T", steps).put("B", batch).put("BATCH_FIRST", l.batchFirst() ? 1 : 0)
                    .put("SIGMOID", Act.SIGMOID).put("TANH", Act.TANH);
            ctx.addKernel(n.describe() + " layer " + layer + " (recurrence" + (dirs == 2 ? ", both directions" : "") + ")", LstmKernel.class, p, dirs * batch);
        }
    }

    /** G[rows, GH] (row stride gStride) = in·W_ihᵀ + bias through the GEMM template with packed panels (GRU's too). */
    static void inputProjection(LoweringContext ctx, Node n, String layer, Placement in, HostTensor wih, float[] bias,
                                int rows, int g, int gStride) {
        int outF = wih.shape().dim(0), k = wih.shape().dim(1);
        int mb = (rows + 7) / 8, tiles = (outF + GemmLowering.NR - 1) / GemmLowering.NR;
        int nch = Math.max(1, Math.min(tiles, 8 / mb));
        Params p = Params.of()
                .put("A_SLOT", in.slot()).put("A_OFF", in.offset()).put("A_RS", k).put("A_CS", 1).put("A_BS0", 0).put("A_BS1", 0)
                .put("B_SLOT", ctx.weight(GemmLowering.packPanels(wih))).put("B_OFF", 0).put("B_RS", GemmLowering.NR)
                .put("B_BS0", 0).put("B_BS1", 0).put("B_PANEL", 1)
                .put("C_SLOT", LoweringContext.ARENA).put("C_OFF", g).put("C_RS", gStride).put("C_BS0", 0).put("C_BS1", 0).put("BD1", 1)
                .put("M", rows).put("N", outF).put("K", k).put("MB", mb).put("NCH", nch)
                .put("BIAS_MODE", 2).put("BIAS_SLOT", ctx.weight(bias)).put("BIAS_OFF", 0)
                .put("E_SLOT", LoweringContext.ARENA).put("E_OFF", 0).put("E_RS", 0).put("E_BS0", 0).put("E_BS1", 0)
                .epilogue(Epilogue.NONE).put("A_PACK", 0).put("AP_SLOT", 0).put("AP_OFF", 0);
        ctx.addKernel(n.describe() + " layer " + layer + " (input projection)", GemmKernel.class, GemmLowering.noConvInput(p), mb * nch);
    }

    /** The arrays one after the other (both directions' packed weights in one constant). */
    static float[] concat(float[][] parts) {
        int total = 0;
        for (float[] p : parts) total += p.length;
        float[] r = new float[total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }

    static HostTensor constant(LoweringContext ctx, Node n, int operand, String what) {
        HostTensor t = ctx.constant(n.inputs().get(operand));
        if (t == null) throw new UnsupportedOpException(n.describe() + ": the cpu backend needs " + what + " as a constant (it is packed at compile time)");
        return t;
    }
}
