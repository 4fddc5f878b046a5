package dev.kiln.ir.op;

/**
 * How one operand (or the result) of a {@link FusedAttention} is stored relative to its logical
 * [G, rows, cols] (rank 3) or [B, H, rows, cols] (rank 4) form. Each layout is a fixed axis
 * permutation, so a backend reads the stored tensor through permuted strides and the transposes
 * that exports put around attention (head split and merge, SAGAN's channel-major maps) are
 * never materialised.
 */
public enum AttentionLayout {
    /** Stored as the logical form: [G, rows, cols] or [B, H, rows, cols]. */
    ROW_MAJOR,
    /** Last two axes swapped: [G, cols, rows] or [B, H, cols, rows] (a 1×1 conv's output, or Kᵀ). */
    CHANNEL_MAJOR,
    /**
     * The rows axis outside the (last) batch axis: [rows, G, cols] or [B, rows, H, cols]. This is a
     * [.., N, H·d] projection split into heads by a reshape alone, before the transpose that exports
     * (nn.MultiheadAttention, GPT-style blocks) apply to make [B·H, N, d] or [B, H, N, d].
     */
    SEQUENCE_MAJOR;

    /** Logical axis i is stored axis perm(rank)[i]. */
    public int[] perm(int rank) {
        return switch (this) {
            case ROW_MAJOR -> rank == 3 ? new int[]{0, 1, 2} : new int[]{0, 1, 2, 3};
            case CHANNEL_MAJOR -> rank == 3 ? new int[]{0, 2, 1} : new int[]{0, 1, 3, 2};
            case SEQUENCE_MAJOR -> rank == 3 ? new int[]{1, 0, 2} : new int[]{0, 2, 1, 3};
        };
    }

    /** The layout whose perm is this one, or null. */
    public static AttentionLayout of(int[] perm) {
        for (AttentionLayout l : values()) if (java.util.Arrays.equals(l.perm(perm.length), perm)) return l;
        return null;
    }

    /** The logical dims of a tensor stored with these dims. */
    public int[] logical(int[] stored) {
        int[] p = perm(stored.length), d = new int[stored.length];
        for (int i = 0; i < d.length; i++) d[i] = stored[p[i]];
        return d;
    }

    /** The stored dims of a tensor with these logical dims (every perm here is its own inverse). */
    public int[] stored(int[] logical) { return logical(logical); }

    /** Row-major strides of the stored tensor, permuted to the logical axes. */
    public int[] logicalStrides(int[] stored) {
        int[] s = new int[stored.length], p = perm(stored.length), r = new int[stored.length];
        int acc = 1;
        for (int i = stored.length - 1; i >= 0; i--) { s[i] = acc; acc *= stored[i]; }
        for (int i = 0; i < r.length; i++) r[i] = s[p[i]];
        return r;
    }
}
