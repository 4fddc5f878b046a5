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
 * <p>Channel-major operands (SAGAN's layout) are only views with swapped strides.
 */
final class AttentionKernel {
    private AttentionKernel() {}

    private static final int MAX_CHUNK = 64, MAX_PRIVATE_Q = 128;

    static Kernel generate(KernelRequest r, FusedAttention f) {
        View q = logical(r.in(0), f.qChannelMajor()), k = logical(r.in(1), f.kChannelMajor()), v = logical(r.in(2), f.vChannelMajor());
        View mask = f.hasMask() ? r.in(3) : null;
        View out = logical(r.out(), f.outChannelMajor());
        View extra = f.epilogue().hasExtra() ? logical(r.in(r.in().size() - 1), f.outChannelMajor()) : null;
        int batches = q.dim(0), m = q.dim(1), d = q.dim(2), n = k.dim(1), e = v.dim(2);
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
            b.append("    for (int c = 0; c < ").append(d).append("; c++) q[c] = valid ? ").append(q.at("b", "i", "c")).append(" : 0.0f;\n");
        }
        String qc = privateQ ? "q[c]" : q.at("b", "i", "c");
        b.append("    float o[").append(ec).append("];\n");
        b.append("    for (int c = 0; c < ").append(ec).append("; c++) o[c] = 0.0f;\n");
        b.append("    float mx = -INFINITY, l = 0.0f;\n");
        b.append("    for (int j0 = 0; j0 < ").append(n).append("; j0 += ").append(bkv).append(") {\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("        for (int t = lid; t < ").append(bkv * d).append("; t += ").append(bq).append(") {\n");
        b.append("            const int j = t / ").append(d).append(", c = t % ").append(d).append(";\n");
        b.append("            Ks[t] = j0 + j < ").append(n).append(" ? ").append(k.at("b", "j0 + j", "c")).append(" : 0.0f;\n");
        b.append("        }\n");
        b.append("        for (int t = lid; t < ").append(bkv * ec).append("; t += ").append(bq).append(") {\n");
        b.append("            const int j = t / ").append(ec).append(", c = t % ").append(ec).append(";\n");
        b.append("            Vs[t] = j0 + j < ").append(n).append(" && e0 + c < ").append(e).append(" ? ")
                .append(v.at("b", "j0 + j", "e0 + c")).append(" : 0.0f;\n");
        b.append("        }\n");
        b.append("        barrier(CLK_LOCAL_MEM_FENCE);\n");
        b.append("        if (valid) {\n");
        b.append("            const int count = min(").append(bkv).append(", ").append(n).append(" - j0);\n");
        b.append("            float s[").append(bkv).append("];\n");
        b.append("            float tmax = -INFINITY;\n");
        b.append("            for (int j = 0; j < count; j++) {\n");
        b.append("                float dot = 0.0f;\n");
        b.append("                for (int c = 0; c < ").append(d).append("; c++) dot = fma(").append(qc).append(", Ks[j * ").append(d).append(" + c], dot);\n");
        b.append("                s[j] = dot * ").append(Code.lit(f.scale()))
                .append(mask == null ? "" : " + " + mask.at("b", "i", "j0 + j")).append(";\n");
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
        String extraAt = extra == null ? null : extra.at("b", "i", "e0 + c");
        b.append("        ").append(out.at("b", "i", "e0 + c")).append(" = ")
                .append(Code.epilogue("y", f.epilogue(), extraAt)).append(";\n");
        b.append("    }\n}\n");
        return r.kernel(b.toString(), global, local);
    }

    /** A [B, rows, cols] operand: stored as is, or channel-major [B, cols, rows]. */
    private static View logical(View stored, boolean channelMajor) { return channelMajor ? stored.swapLastTwo() : stored; }
}
