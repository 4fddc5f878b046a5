package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;

/**
 * FusedAttention as a flash-attention kernel: one work-item per query row, a work-group of bq
 * rows. The group streams K and V through local memory in tiles of bkv keys; each row keeps a
 * running max, running sum and output accumulator (online softmax), rescaling them once per
 * tile, so the M×N score matrix never exists. Results wider than 64 values are split into
 * chunks of output columns across the NDRange's second dimension.
 *
 * <p>Every layout (SAGAN's channel-major maps, heads split from a [B,N,H·d] projection) is only a
 * view with permuted strides; a broadcast mask is a view with zero strides. Causal attention
 * computes each row's keys up to its own and loads no key tile past its work-group's last row.
 */
final class AttentionKernel {
    private AttentionKernel() {}

    private static final int MAX_CHUNK = 64, MAX_PRIVATE_Q = 128;

    static Kernel generate(KernelRequest r, FusedAttention f) {
        int rank = r.out().rank();
        View q = r.in(0).permute(f.qLayout().perm(rank)), k = r.in(1).permute(f.kLayout().perm(rank)), v = r.in(2).permute(f.vLayout().perm(rank));
        View out = r.out().permute(f.outLayout().perm(rank));
        View extra = f.epilogue().hasExtra() ? r.in(r.in().size() - 1).permute(f.outLayout().perm(rank)) : null;
        int heads = rank == 4 ? q.dim(1) : 1, batches = q.dim(0) * heads;
        int m = q.dim(rank - 2), d = q.dim(rank - 1), n = k.dim(rank - 2), e = v.dim(rank - 1);
        int[] scores = out.dims().clone();
        scores[rank - 1] = n;
        View mask = f.hasMask() ? r.in(3).broadcastTo(scores) : null;
        // group b is (batch, head) = (b / heads, b % heads) at rank 4
        java.util.function.BiFunction<View, String[], String> at = (view, ij) -> rank == 3 ? view.at("b", ij[0], ij[1])
                : view.at(heads == 1 ? "b" : "b / " + heads, heads == 1 ? "0" : "b % " + heads, ij[0], ij[1]);
        int ec = Math.min(e, MAX_CHUNK), chunks = Code.ceilDiv(e, ec);
        DeviceLimits l = r.limits();

        int bq = Math.min(Math.min(l.targetWorkGroupSize(), l.maxItems(0)), Math.min(128, Code.pow2AtLeast(m)));
        while (bq > 1 && (long) batches * chunks * Code.ceilDiv(m, bq) < l.computeUnits()) bq /= 2;
        int bkv = Math.min(32, n);
        while (bkv > 1 && 4L * bkv * (d + ec) > l.localBudgetBytes()) bkv = (bkv + 1) / 2;
        if (4L * bkv * (d + ec) > l.localBudgetBytes())
            throw new dev.kiln.ir.UnsupportedOpException(r.node().describe() + ": head size " + d
                    + " does not fit the device's local memory (" + l.localMemBytes() + " B)");
        boolean privateQ = d <= MAX_PRIVATE_Q;
        long[] local = {bq, 1, 1};
        long[] global = {Code.roundUp(m, bq), chunks, batches};

        StringBuilder b = new StringBuilder("// flash attention: ").append(batches).append(" x [").append(m).append(" x ").append(d)
                .append("] against ").append(n).append(" keys, ").append(e).append(" values; ").append(bq)
                .append(" rows per work-group, key tiles of ").append(bkv).append('\n');
        b.append(r.header(local)).append(" {\n");
        b.append("    const int lid = get_local_id(0), i = get_global_id(0), e0 = get_group_id(1) * ").append(ec)
                .append(", b = get_group_id(2);\n");
        b.append("    const int valid = i < ").append(m).append(";\n");
        b.append("    __local float Ks[").append(bkv * d).append("];\n");
        b.append("    __local float Vs[").append(bkv * ec).append("];\n");
        if (privateQ) {
            b.append("    float q[").append(d).append("];\n");
            b.append("    for (int c = 0; c < ").append(d).append("; c++) q[c] = valid ? ").append(at.apply(q, new String[]{"i", "c"})).append(" : 0.0f;\n");
        }
        String qc = privateQ ? "q[c]" : at.apply(q, new String[]{"i", "c"});
        b.append("    float o[").append(ec).append("];\n");
        b.append("    for (int c = 0; c < ").append(ec).append("; c++) o[c] = 0.0f;\n");
        b.append("    float mx = -INFINITY, l = 0.0f;\n");
        // causal: key tiles past the group's last row are neither loaded nor computed. The loop itself keeps a constant
        // trip count with its barriers met unconditionally by every item: with a bound from get_group_id on the loop around
        // the barriers, PoCL 3.1 aborted the JVM with heap corruption (with a 1-row work-group; and the JVM aborted once more
        // in MaskedAttentionOnBackendsTest when only groups of two or more rows had that bound).
        // jend is the same for every item of the group, so the branches around the loads are uniform.
        String tiles = f.causal() ? "min(" + n + ", (int) get_group_id(0) * " + bq + " + " + bq + ")" : String.valueOf(n);
        b.append("    const int jend = ").append(tiles).append(";\n");
        b.append("    for (int j0 = 0; j0 < ").append(n).append("; j0 += ").append(bkv).append(") {\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("        if (j0 < jend) {\n");
        b.append("        for (int t = lid; t < ").append(bkv * d).append("; t += ").append(bq).append(") {\n");
        b.append("            const int j = t / ").append(d).append(", c = t % ").append(d).append(";\n");
        b.append("            Ks[t] = j0 + j < ").append(n).append(" ? ").append(at.apply(k, new String[]{"j0 + j", "c"})).append(" : 0.0f;\n");
        b.append("        }\n");
        b.append("        for (int t = lid; t < ").append(bkv * ec).append("; t += ").append(bq).append(") {\n");
        b.append("            const int j = t / ").append(ec).append(", c = t % ").append(ec).append(";\n");
        b.append("            Vs[t] = j0 + j < ").append(n).append(" && e0 + c < ").append(e).append(" ? ")
                .append(at.apply(v, new String[]{"j0 + j", "e0 + c"})).append(" : 0.0f;\n");
        b.append("        }\n");
        b.append("        }\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("        if (valid && j0 < jend) {\n");
        // causally masked keys (j > i) take no part at all: not even 0·V
        b.append("            const int count = min(").append(bkv).append(", ").append(f.causal() ? "min(" + n + ", i + 1)" : String.valueOf(n)).append(" - j0);\n");
        b.append("            float s[").append(bkv).append("];\n");
        b.append("            float tmax = -INFINITY;\n");
        b.append("            for (int j = 0; j < count; j++) {\n");
        b.append("                float dot = 0.0f;\n");
        b.append("                for (int c = 0; c < ").append(d).append("; c++) dot = fma(").append(qc).append(", Ks[j * ").append(d).append(" + c], dot);\n");
        b.append("                s[j] = dot * ").append(Code.lit(f.scale()))
                .append(";\n");
        if (mask != null) {
            String mv = at.apply(mask, new String[]{"i", "j0 + j"});
            b.append("                { const float mv = ").append(mv).append("; s[j] = ")
                    .append(f.maskSelects() ? "mv == -INFINITY ? -INFINITY : s[j] + mv" : "s[j] + mv").append("; }\n");
        }
        // a NaN score must make the row NaN, as in the reference: C's fmax would drop it (and a NaN among masked keys
        // would leave the tile looking fully masked), so the maxima are taken with comparisons that keep NaN
        b.append("                if (s[j] > tmax || s[j] != s[j]) tmax = s[j];\n");
        b.append("            }\n");
        b.append("            const float mnew = tmax > mx || tmax != tmax ? tmax : mx;\n");
        b.append("            if (mnew != -INFINITY) {\n");
        b.append("                const float corr = exp(mx - mnew);\n");
        b.append("                l *= corr;\n");
        b.append("                for (int c = 0; c < ").append(ec).append("; c++) o[c] *= corr;\n");
        b.append("                for (int j = 0; j < count; j++) {\n");
        b.append("                    const float p = exp(s[j] - mnew);\n");
        b.append("                    l += p;\n");
        b.append("                    for (int c = 0; c < ").append(ec).append("; c++) o[c] = fma(p, Vs[j * ").append(ec).append(" + c], o[c]);\n");
        b.append("                }\n");
        b.append("                mx = mnew;\n");
        b.append("            } else {\n");
        // every key so far is masked: their weights are 0, yet 0·V is NaN where V holds NaN or ±∞, as in the reference
        b.append("                for (int j = 0; j < count; j++)\n");
        b.append("                    for (int c = 0; c < ").append(ec).append("; c++) o[c] += 0.0f * Vs[j * ").append(ec).append(" + c];\n");
        b.append("            }\n");
        b.append("        }\n");
        b.append("    }\n");
        b.append("    const float inv = 1.0f / l;\n");
        b.append("    if (valid) for (int c = 0; c < ").append(ec).append(" && e0 + c < ").append(e).append("; c++) {\n");
        b.append("        const float y = o[c] * inv;\n");
        String extraAt = extra == null ? null : at.apply(extra, new String[]{"i", "e0 + c"});
        b.append("        ").append(at.apply(out, new String[]{"i", "e0 + c"})).append(" = ")
                .append(Code.epilogue("y", f.epilogue(), extraAt)).append(";\n");
        b.append("    }\n}\n");
        return r.kernel(b.toString(), global, local);
    }
}
