package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.kernels.AttentionKernel;
import dev.kiln.backend.cpu.kernels.LaneAttentionKernel;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.FusedAttention;

/**
 * Streaming (flash) attention. Every operand is read through the strides of its layout (a head
 * split [B,N,H,d] read as [B,H,N,d] costs nothing). The kernel wants Kᵀ with unit stride along
 * keys and V with unit stride along its features; an operand stored the other way is transposed
 * once per call into arena scratch (O(N·d) memory, never O(N²)).
 */
final class AttentionLowering {
    private AttentionLowering() {}

    /** A stored operand read as logical [B, H, rows, cols] (H = 1 at rank 3): the strides of those four axes. */
    private record Logical(int b, int h, int rows, int cols, int sb, int sh, int sr, int sc) {
        static Logical of(Placement p, AttentionLayout layout, int rank) {
            int[] perm = layout.perm(rank), d = p.dims(), st = p.strides();
            int[] ld = new int[rank], ls = new int[rank];
            for (int i = 0; i < rank; i++) { ld[i] = d[perm[i] + 4 - rank]; ls[i] = st[perm[i] + 4 - rank]; }
            return rank == 3 ? new Logical(ld[0], 1, ld[1], ld[2], ls[0], 0, ls[1], ls[2])
                             : new Logical(ld[0], ld[1], ld[2], ld[3], ls[0], ls[1], ls[2], ls[3]);
        }
    }

    static void attention(LoweringContext ctx, Node n, FusedAttention a) {
        Placement q4 = ctx.of(n.inputs().get(0)).as4d(), k4 = ctx.of(n.inputs().get(1)).as4d(), v4 = ctx.of(n.inputs().get(2)).as4d();
        Placement o4 = ctx.of(n.name()).as4d();
        int rank = n.type().rank();
        if (rank == 3 && !a.causal() && lanes(ctx, n, a, q4, k4, v4, o4)) return;
        Logical q = Logical.of(q4, a.qLayout(), rank), k = Logical.of(k4, a.kLayout(), rank), v = Logical.of(v4, a.vLayout(), rank);
        Logical o = Logical.of(o4, a.outLayout(), rank);
        int heads = q.h(), groups = q.b() * heads, m = q.rows(), d = q.cols(), keys = k.rows(), ev = v.cols();
        // Kᵀ: [G][D][N] with unit stride along N, and a row pitch that does not alias in the L1
        int kSlot = k4.slot(), kOff = k4.offset(), kSb = k.sb(), kSh = k.sh(), kSd;
        if (k.sr() == 1 && !aliases(k.sc())) kSd = k.sc();
        else {
            int pitch = pitch(keys);
            int off = ctx.scratch(groups * d * pitch);
            MovementLowering.copy(ctx, n, " (K transposed)", new int[]{k.b(), heads, d, keys}, k4.slot(), k4.offset(),
                    new int[]{k.sb(), k.sh(), k.sc(), k.sr()}, LoweringContext.ARENA, off, new int[]{heads * d * pitch, d * pitch, pitch, 1});
            kSlot = LoweringContext.ARENA; kOff = off; kSb = heads * d * pitch; kSh = d * pitch; kSd = pitch;
        }
        // V: [G][N][E] with unit stride along E
        int vSlot = v4.slot(), vOff = v4.offset(), vSb = v.sb(), vSh = v.sh(), vSj;
        if (v.sc() == 1) vSj = v.sr();
        else {
            int off = ctx.scratch(groups * keys * ev);
            MovementLowering.copy(ctx, n, " (V transposed)", new int[]{v.b(), heads, keys, ev}, v4.slot(), v4.offset(),
                    new int[]{v.sb(), v.sh(), v.sr(), v.sc()}, LoweringContext.ARENA, off, new int[]{heads * keys * ev, keys * ev, ev, 1});
            vSlot = LoweringContext.ARENA; vOff = off; vSb = heads * keys * ev; vSh = keys * ev; vSj = ev;
        }
        Params p = Params.of().put("H", heads)
                .put("Q_SLOT", q4.slot()).put("Q_OFF", q4.offset()).put("Q_SB", q.sb()).put("Q_SH", q.sh()).put("Q_SI", q.sr()).put("Q_SD", q.sc())
                .put("K_SLOT", kSlot).put("K_OFF", kOff).put("K_SB", kSb).put("K_SH", kSh).put("K_SD", kSd)
                .put("V_SLOT", vSlot).put("V_OFF", vOff).put("V_SB", vSb).put("V_SH", vSh).put("V_SJ", vSj)
                .put("O_SLOT", o4.slot()).put("O_OFF", o4.offset()).put("O_SB", o.sb()).put("O_SH", o.sh()).put("O_SI", o.sr()).put("O_SE", o.sc())
                .put("M", m).put("N", keys).put("D", d).put("EV", ev).put("SCALE", a.scale())
                .put("CAUSAL", a.causal() ? 1 : 0).put("MASK_SELECTS", a.maskSelects() ? 1 : 0)
                .epilogue(a.epilogue());
        // the mask: unit stride along keys, broadcast axes at stride 0
        Placement mask = a.hasMask() ? GemmLowering.contiguous(ctx, n, ctx.of(n.inputs().get(3))) : o4;
        int[] ms = a.hasMask() ? FusedAttention.maskStrides(ctx.of(n.inputs().get(3)).dims(), rank) : new int[3];
        p.put("HAS_MASK", a.hasMask() ? 1 : 0).put("MASK_SLOT", mask.slot()).put("MASK_OFF", mask.offset())
                .put("MASK_SB", ms[0]).put("MASK_SH", ms[1]).put("MASK_SI", ms[2]);
        Logical e = a.epilogue().hasExtra() ? Logical.of(ctx.of(n.inputs().getLast()).as4d(), a.outLayout(), rank) : o;
        Placement e4 = a.epilogue().hasExtra() ? ctx.of(n.inputs().getLast()).as4d() : o4;
        p.put("E_SLOT", e4.slot()).put("E_OFF", e4.offset()).put("E_SB", e.sb()).put("E_SH", e.sh()).put("E_SI", e.sr()).put("E_SE", e.sc());
        ctx.kernel(n, AttentionKernel.class, p, groups * ((m + 7) / 8));
    }

    /**
     * Channel-major Q and output with unit stride along the queries (SAGAN's layout) and no mask:
     * the queries go along the lanes ({@link LaneAttentionKernel}), which reads K and V in any
     * layout by broadcasts, so nothing is transposed. A mask is [B,M,N] with unit stride along
     * keys, which lanes of queries would gather; those stay on the row kernel.
     */
    private static boolean lanes(LoweringContext ctx, Node n, FusedAttention a, Placement q, Placement k, Placement v, Placement o) {
        Placement e = a.epilogue().hasExtra() ? ctx.of(n.inputs().getLast()).as4d() : o;
        if (a.hasMask() || !a.qChannelMajor() || !a.outChannelMajor() || a.kLayout() == AttentionLayout.SEQUENCE_MAJOR
                || a.vLayout() == AttentionLayout.SEQUENCE_MAJOR || q.strides()[3] != 1 || o.strides()[3] != 1 || e.strides()[3] != 1)
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
