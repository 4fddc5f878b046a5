package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.AttentionKernel;
import dev.kiln.backend.cpu.kernels.LaneAttentionKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.FusedAttention;

/**
 * Streaming (flash) attention. The kernel wants Kᵀ with unit stride along keys and V with unit
 * stride along its features; an operand stored the other way is transposed once per call into
 * arena scratch (O(N·d) memory, never O(N²)).
 */
final class AttentionLowering {
    private AttentionLowering() {}

    static void attention(LoweringContext ctx, Node n, FusedAttention a) {
        Placement q = ctx.of(n.inputs().get(0)).as4d(), k = ctx.of(n.inputs().get(1)).as4d(), v = ctx.of(n.inputs().get(2)).as4d();
        Placement o = ctx.of(n.name()).as4d();
        if (lanes(ctx, n, a, q, k, v, o)) return;
        int batch = q.dims()[1];
        int m = a.qChannelMajor() ? q.dims()[3] : q.dims()[2], d = a.qChannelMajor() ? q.dims()[2] : q.dims()[3];
        int keys = a.kChannelMajor() ? k.dims()[3] : k.dims()[2];
        int ev = a.vChannelMajor() ? v.dims()[2] : v.dims()[3];
        // Kᵀ: [B][D][N] with unit stride along N, and a row pitch that does not alias in the L1
        int kSlot = k.slot(), kOff = k.offset(), kSb = k.strides()[1], kSd;
        if (a.kChannelMajor() && k.strides()[3] == 1 && !aliases(k.strides()[2])) kSd = k.strides()[2];
        else {
            int pitch = pitch(keys);
            int off = ctx.scratch(batch * d * pitch);
            int[] rs = a.kChannelMajor() ? new int[]{0, k.strides()[1], k.strides()[2], k.strides()[3]}
                                         : new int[]{0, k.strides()[1], k.strides()[3], k.strides()[2]};
            MovementLowering.copy(ctx, n, " (K transposed)", new int[]{1, batch, d, keys}, k.slot(), k.offset(), rs,
                    LoweringContext.ARENA, off, new int[]{batch * d * pitch, d * pitch, pitch, 1});
            kSlot = LoweringContext.ARENA; kOff = off; kSb = d * pitch; kSd = pitch;
        }
        // V: [B][N][E] with unit stride along E
        int vSlot = v.slot(), vOff = v.offset(), vSb = v.strides()[1], vSj;
        if (!a.vChannelMajor() && v.strides()[3] == 1) vSj = v.strides()[2];
        else {
            int off = ctx.scratch(batch * keys * ev);
            int[] rs = a.vChannelMajor() ? new int[]{0, v.strides()[1], v.strides()[3], v.strides()[2]}
                                         : new int[]{0, v.strides()[1], v.strides()[2], v.strides()[3]};
            MovementLowering.copy(ctx, n, " (V transposed)", new int[]{1, batch, keys, ev}, v.slot(), v.offset(), rs,
                    LoweringContext.ARENA, off, new int[]{batch * keys * ev, keys * ev, ev, 1});
            vSlot = LoweringContext.ARENA; vOff = off; vSb = keys * ev; vSj = ev;
        }
        Params p = Params.of()
                .put("Q_SLOT", q.slot()).put("Q_OFF", q.offset()).put("Q_SB", q.strides()[1])
                .put("Q_SI", a.qChannelMajor() ? q.strides()[3] : q.strides()[2]).put("Q_SD", a.qChannelMajor() ? q.strides()[2] : q.strides()[3])
                .put("K_SLOT", kSlot).put("K_OFF", kOff).put("K_SB", kSb).put("K_SD", kSd)
                .put("V_SLOT", vSlot).put("V_OFF", vOff).put("V_SB", vSb).put("V_SJ", vSj)
                .put("O_SLOT", o.slot()).put("O_OFF", o.offset()).put("O_SB", o.strides()[1])
                .put("O_SI", a.outChannelMajor() ? o.strides()[3] : o.strides()[2]).put("O_SE", a.outChannelMajor() ? o.strides()[2] : o.strides()[3])
                .put("M", m).put("N", keys).put("D", d).put("EV", ev).put("SCALE", a.scale())
                .epilogue(a.epilogue());
        Placement mask = a.hasMask() ? GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(3))).as4d() : o;
        p.put("HAS_MASK", a.hasMask() ? 1 : 0).put("MASK_SLOT", mask.slot()).put("MASK_OFF", mask.offset())
                .put("MASK_SB", mask.strides()[1]).put("MASK_SI", mask.strides()[2]);
        Placement e = a.epilogue().hasExtra() ? ctx.of(n.inputs().getLast()).as4d() : o;
        p.put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_SB", e.strides()[1])
                .put("E_SI", a.outChannelMajor() ? e.strides()[3] : e.strides()[2]).put("E_SE", a.outChannelMajor() ? e.strides()[2] : e.strides()[3]);
        ctx.kernel(n, AttentionKernel.class, p, batch * ((m + 7) / 8));
    }

    /**
     * Channel-major Q and output with unit stride along the queries (SAGAN's layout) and no mask:
     * the queries go along the lanes ({@link LaneAttentionKernel}), which reads K and V in any
     * layout by broadcasts, so nothing is transposed. A mask is [B,M,N] with unit stride along
     * keys, which lanes of queries would gather; those stay on the row kernel.
     */
    private static boolean lanes(LoweringContext ctx, Node n, FusedAttention a, Placement q, Placement k, Placement v, Placement o) {
        Placement e = a.epilogue().hasExtra() ? ctx.of(n.inputs().getLast()).as4d() : o;
        if (a.hasMask() || !a.qChannelMajor() || !a.outChannelMajor() || q.strides()[3] != 1 || o.strides()[3] != 1 || e.strides()[3] != 1)
            return false;
        int batch = q.dims()[1], m = q.dims()[3], d = q.dims()[2];
        int keys = a.kChannelMajor() ? k.dims()[3] : k.dims()[2], ev = a.vChannelMajor() ? v.dims()[2] : v.dims()[3];
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(), block = 2 * lanes;
        // a tile of probabilities (KT keys × 2 vectors) of 16 KiB: half the L1, the rest for the V rows it meets
        int keyTile = Math.min(keys, Integer.getInteger("kiln.cpu.laneKeyTile", 4096 / block));
        Params p = Params.of()
                .put("Q_SLOT", q.slot()).put("Q_OFF", q.offset()).put("Q_SB", q.strides()[1]).put("Q_SD", q.strides()[2])
                .put("K_SLOT", k.slot()).put("K_OFF", k.offset()).put("K_SB", k.strides()[1])
                .put("K_SD", a.kChannelMajor() ? k.strides()[2] : k.strides()[3]).put("K_SJ", a.kChannelMajor() ? k.strides()[3] : k.strides()[2])
                .put("V_SLOT", v.slot()).put("V_OFF", v.offset()).put("V_SB", v.strides()[1])
                .put("V_SE", a.vChannelMajor() ? v.strides()[2] : v.strides()[3]).put("V_SJ", a.vChannelMajor() ? v.strides()[3] : v.strides()[2])
                .put("O_SLOT", o.slot()).put("O_OFF", o.offset()).put("O_SB", o.strides()[1]).put("O_SE", o.strides()[2])
                .put("E_SLOT", e.slot()).put("E_OFF", e.offset()).put("E_SB", e.strides()[1]).put("E_SE", e.strides()[2])
                .put("M", m).put("N", keys).put("D", d).put("EV", ev).put("KT", keyTile).put("SCALE", a.scale())
                .epilogue(a.epilogue());
        ctx.kernel(n, LaneAttentionKernel.class, p, batch * ((m + block - 1) / block));
        return true;
    }

    /**
     * The kernel reads a key tile as D rows of Kᵀ. Rows 2 KiB apart or a multiple of that (N a
     * multiple of 512: a 32×32 SAGAN map, sequences of 1024 or 4096) fall into the same few L1
     * sets, so the D lines of a tile evict each other and every load goes to L2.
     */
    private static boolean aliases(int rowStride) { return rowStride % 512 == 0; }

    /** A row pitch of an odd number of 64-byte lines: consecutive rows start in different L1 sets. */
    private static int pitch(int keys) {
        int lines = (keys + 15) / 16;
        return (lines % 2 == 0 ? lines + 1 : lines) * 16;
    }
}
