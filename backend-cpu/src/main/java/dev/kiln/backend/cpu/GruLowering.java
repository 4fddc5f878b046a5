package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.GruKernel;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Gru;

/**
 * GRU, as {@link LstmLowering} does an LSTM: per layer and direction, the input projection of
 * every step at once as one GEMM, G = X·W_ihᵀ + b_ih + (b_hr, b_hz, 0) (the recurrent biases of
 * r and z are summed in here at compile time; b_hn must stay inside r⊙(...)), then the
 * recurrence in {@link GruKernel}, with W_hh packed into panels and (0, 0, b_hn) padded to whole
 * panels, both at compile time; one kernel runs both directions of a bidirectional layer, a task
 * per direction and batch row. Layers write their hidden states straight into the result, which
 * the next layer's projection reads before its recurrence overwrites it.
 */
final class GruLowering {
    private GruLowering() {}

    static void gru(LoweringContext ctx, Node n, Gru op) {
        Placement x = GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().getFirst())), y = ctx.of(n.name());
        if (!y.isContiguous()) throw new UnsupportedOpException(n.describe() + ": the cpu backend needs a contiguous GRU result");
        int[] xd = x.dims();
        int batch = op.batchFirst() ? xd[0] : xd[1], steps = op.batchFirst() ? xd[1] : xd[0], hid = op.hiddenSize();
        int dirs = op.bidirectional() ? 2 : 1;
        int rows = batch * steps, tiles = (3 * hid + GemmLowering.NR - 1) / GemmLowering.NR, gStride = tiles * GemmLowering.NR;
        Placement h0 = op.hasInitialState() ? GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(1))) : null;
        int base = op.hasInitialState() ? 2 : 1;
        // per direction d: G at g + d·rows·gStride; h and R of task k = d·B + b at hs + k·H and rs + k·gStride
        int g = ctx.scratch(dirs * rows * gStride), hs = ctx.scratch(dirs * batch * hid), rs = ctx.scratch(dirs * batch * gStride);
        for (int layer = 0; layer < op.numLayers(); layer++) {
            Placement in = layer == 0 ? x : y;
            float[][] packed = new float[dirs][];
            float[] bn = new float[dirs * gStride];
            // every direction's projection reads the layer's input before the recurrence writes y
            for (int d = 0; d < dirs; d++) {
                int w = base + 4 * (layer * dirs + d);
                String sfx = "_l" + layer + (d == 1 ? "_reverse" : "");
                HostTensor wih = LstmLowering.constant(ctx, n, w, "weight_ih" + sfx), whh = LstmLowering.constant(ctx, n, w + 1, "weight_hh" + sfx);
                HostTensor bih = LstmLowering.constant(ctx, n, w + 2, "bias_ih" + sfx), bhh = LstmLowering.constant(ctx, n, w + 3, "bias_hh" + sfx);
                float[] bias = new float[3 * hid];
                for (int i = 0; i < bias.length; i++) bias[i] = i < 2 * hid ? (float) ((double) bih.data()[i] + bhh.data()[i]) : bih.data()[i];
                LstmLowering.inputProjection(ctx, n, layer + (d == 1 ? " reverse" : ""), in, wih, bias, rows, g + d * rows * gStride, gStride);
                packed[d] = GemmLowering.packPanels(whh);
                System.arraycopy(bhh.data(), 2 * hid, bn, d * gStride + 2 * hid, hid);
            }
            Params p = Params.of().put("G_SLOT", LoweringContext.ARENA).put("G_OFF", g).put("G_RS", gStride).put("G_DIR", rows * gStride)
                    .put("W_SLOT", ctx.weight(LstmLowering.concat(packed))).put("W_DIR", packed[0].length).put("BH_SLOT", ctx.weight(bn))
                    .put("Y_SLOT", y.slot()).put("Y_OFF", y.offset()).put("DIRS", dirs)
                    .put("S_SLOT", LoweringContext.ARENA).put("HS_OFF", hs).put("R_OFF", rs)
                    .put("INIT", op.hasInitialState() ? 1 : 0)
                    .put("H0_SLOT", h0 == null ? 0 : h0.slot()).put("H0_OFF", h0 == null ? 0 : h0.offset() + layer * dirs * batch * hid)
                    .put("HID", hid).put("T", steps).put("B", batch).put("BATCH_FIRST", op.batchFirst() ? 1 : 0)
                    .put("SIGMOID", Act.SIGMOID).put("TANH", Act.TANH);
            ctx.addKernel(n.describe() + " layer " + layer + " (recurrence" + (dirs == 2 ? ", both directions" : "") + ")", GruKernel.class, p, dirs * batch);
        }
    }
}
