package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A max or average pool as the last post-op of a {@link Conv2d}'s epilogue: the conv's kernel
 * writes pooled outputs from its tile, so the pre-pool tensor (cnn's 72 KiB after conv1) is never
 * stored nor read back by a separate pool step. It means exactly {@link MaxPool2d} or
 * {@link AvgPool2d} with these attributes applied to the conv's result after its other post-ops:
 * {@link #asOp()} is that op, and the reference evaluates through it, so the pool's semantics
 * (NaN wins a max, padding never does; the average's divisor) are defined once.
 *
 * <p>In text IR: {@code max_pool(k=2x2,s=2x2,p=0x0x0x0)} (kernel, stride, padding top x left x
 * bottom x right), {@code avg_pool(k=3x3,s=1x1,p=1x1x1x1,count_pad)} or {@code ...,exclude_pad)}.
 */
public record Pool(boolean max, Ints kernel, Ints stride, Ints padding, boolean countIncludePad) implements Epilogue.PostOp {
    public Pool {
        Checks.positive(Checks.pair(kernel, "kernel"), "kernel");
        Checks.positive(Checks.pair(stride, "stride"), "stride");
        Checks.quad(padding, "padding");
    }

    public static Pool of(MaxPool2d p) { return new Pool(true, p.kernel(), p.stride(), p.padding(), false); }

    public static Pool of(AvgPool2d p) { return new Pool(false, p.kernel(), p.stride(), p.padding(), p.countIncludePad()); }

    /** The standalone pool op this post-op stands for. */
    public Op asOp() { return max ? new MaxPool2d(kernel, stride, padding) : new AvgPool2d(kernel, stride, padding, countIncludePad); }

    /** The pooled type of the anchor's result t (the pool op's shape rule; errors name the anchor). */
    TensorType outType(Op anchor, TensorType t) { return Pooling.outType(anchor, t, kernel, stride, padding); }

    HostTensor evaluate(HostTensor t) { return asOp().evaluate(List.of(t)); }

    @Override public String toString() {
        return (max ? "max_pool(" : "avg_pool(") + "k=" + x(kernel) + ",s=" + x(stride) + ",p=" + x(padding)
                + (max ? "" : countIncludePad ? ",count_pad" : ",exclude_pad") + ")";
    }

    /** 2x2, 0x0x1x1: no brackets, which the IR parser's attribute values do not nest. */
    private static String x(Ints v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.size(); i++) b.append(i > 0 ? "x" : "").append(v.get(i));
        return b.toString();
    }

    private static Ints ints(String text) {
        String[] parts = text.split("x");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Integer.parseInt(parts[i]);
        return Ints.of(v);
    }

    private static final Pattern TEXT = Pattern.compile("(max|avg)_pool\\(\\s*k=([0-9x]+)\\s*,\\s*s=([0-9x]+)\\s*,\\s*p=([0-9x]+)\\s*(?:,\\s*(count_pad|exclude_pad)\\s*)?\\)");

    /** Reads what {@link #toString} writes, or returns null when item is not a pool. */
    static Pool parse(String item) {
        if (!item.startsWith("max_pool(") && !item.startsWith("avg_pool(")) return null;
        Matcher m = TEXT.matcher(item);
        boolean max = item.startsWith("max");
        if (!m.matches() || max != (m.group(5) == null))
            throw new IllegalArgumentException("a pool post-op looks like max_pool(k=KHxKW,s=SHxSW,p=TxLxBxR) or avg_pool(..., count_pad|exclude_pad), got '" + item + "'");
        return new Pool(max, ints(m.group(2)), ints(m.group(3)), ints(m.group(4)), "count_pad".equals(m.group(5)));
    }
}
