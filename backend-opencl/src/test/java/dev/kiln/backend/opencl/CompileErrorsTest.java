package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Concat;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kernels a device cannot hold are refused while generating them (no device needed), and the
 * refusal names the IR node and where it came from.
 */
class CompileErrorsTest {
    /** 4 KiB of local memory, of which a kernel may use half. */
    static final DeviceLimits TINY = new DeviceLimits(32, new long[]{32, 16, 8}, 4 * 1024, 2, 1, 1L << 28, 1L << 30);

    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    @Test
    void anLstmTooWideForLocalMemoryNamesTheNodeAndItsOrigin() {
        TestGraph t = new TestGraph("wide-lstm");
        int h = 200, f = 2;
        String y = t.opFrom("/encoder/lstm/LSTM", new Lstm(h, 1, true, false), t.input(1, 3, f),
                t.weight(4 * h, f), t.weight(4 * h, h), t.weight(4 * h), t.weight(4 * h));
        Graph g = t.returning(y);
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> Lowering.lower(new DeviceLayout(g), TINY));
        assertMentions(e, "lstm %" + y, "/encoder/lstm/LSTM", "hidden size 200", "local memory");
    }

    @Test
    void anAttentionHeadTooLargeForLocalMemoryNamesTheNodeAndItsOrigin() {
        TestGraph t = new TestGraph("big-head");
        int d = 600;
        FusedAttention a = new FusedAttention(0.1f, false, false, false, false, false, Epilogue.NONE);
        String y = t.opFrom("blocks.0.attention", a, t.input(1, 4, d), t.input(1, 5, d), t.input(1, 5, 8));
        Graph g = t.returning(y);
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> Lowering.lower(new DeviceLayout(g), TINY));
        assertMentions(e, "fused_attention %" + y, "blocks.0.attention", "head size 600");
    }

    @Test
    void aBufferBeyondIntIndexingNamesTheNodeThatMakesIt() {
        TestGraph t = new TestGraph("huge");
        // two halves of 2^30 floats each fit; their concatenation does not (no data is allocated to build the layout)
        String a = t.opFrom("model.left", Unary.of(Unary.Kind.RELU), t.input(1 << 15, 1 << 15));
        String y = t.opFrom("model.join", new Concat(0), a, t.input(1 << 15, 1 << 15));
        Graph g = t.returning(y);
        var e = assertThrowsExactly(UnsupportedOpException.class, () -> new DeviceLayout(g));
        assertMentions(e, "concat %" + y, "model.join", "2^31");
    }
}
