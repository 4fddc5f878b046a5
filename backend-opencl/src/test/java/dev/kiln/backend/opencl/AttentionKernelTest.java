package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.AttentionLayout;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import org.junit.jupiter.api.Test;

import static dev.kiln.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FusedAttention (flash attention with an online softmax) against the reference interpreter. */
class AttentionKernelTest {
    static FusedAttention attention(float scale, boolean mask, boolean channelMajor, Epilogue epilogue) {
        return new FusedAttention(scale, mask, channelMajor, channelMajor, channelMajor, channelMajor, epilogue);
    }

    @Test
    void sequenceAttentionStreamsKeysInTiles() {
        TestGraph t = new TestGraph("seq");
        String y = t.op(attention(0.25f, false, false, Epilogue.NONE), t.input(2, 37, 16), t.input(2, 75, 16), t.input(2, 75, 8));
        Graph g = t.returning(y);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            String src = e.kernels().getFirst().source();
            assertTrue(src.contains("__local float Ks[") && src.contains("const float corr = exp(mx - mnew);"), src);
        }
        assertMatchesReference(g, 1);
    }

    @Test
    void maskedAttentionAddsTheMaskToTheScores() {
        TestGraph t = new TestGraph("masked");
        String y = t.op(attention(0.5f, true, false, Epilogue.NONE),
                t.input(1, 5, 3), t.input(1, 7, 3), t.input(1, 7, 4), t.input(1, 5, 7));
        assertMatchesReference(t.returning(y), 2);
    }

    @Test
    void channelMajorAttentionGatedByItsInput() {
        TestGraph t = new TestGraph("sagan");
        String x = t.input(1, 6, 20);
        String y = t.op(attention(1f, false, true, Epilogue.NONE.then(Epilogue.MUL)), t.input(1, 3, 20), t.input(1, 3, 20), t.input(1, 6, 20), x);
        assertMatchesReference(t.returning(y), 3);
    }

    @Test
    void wideValuesAreSplitIntoChunksOfColumns() {
        TestGraph t = new TestGraph("wide");
        String x = t.input(1, 9, 70);
        String y = t.op(new FusedAttention(0.1f, false, false, false, true, false, Epilogue.of(Epilogue.ADD).then(Act.RELU)),
                t.input(1, 9, 5), t.input(1, 41, 5), t.input(1, 70, 41), x);
        assertMatchesReference(t.returning(y), 4);
    }

    @Test
    void largeHeadsAreReadFromGlobalMemory() {
        TestGraph t = new TestGraph("big-head");
        String y = t.op(attention(0.05f, false, false, Epilogue.NONE), t.input(1, 3, 131), t.input(1, 4, 131), t.input(1, 4, 2));
        assertMatchesReference(t.returning(y), 5);
    }

    @Test
    void causalAttentionLoadsNoKeyTilePastItsGroupsDiagonal() {
        // 100 queries over 100 keys in work-groups of several rows: tiles end at the group's last row
        TestGraph t = new TestGraph("causal");
        var causal = new FusedAttention(0.3f, false, AttentionLayout.ROW_MAJOR, AttentionLayout.ROW_MAJOR, AttentionLayout.ROW_MAJOR,
                AttentionLayout.ROW_MAJOR, true, false, Epilogue.NONE);
        String y = t.op(causal, t.input(2, 100, 8), t.input(2, 100, 8), t.input(2, 100, 6));
        Graph g = t.returning(y);
        OpenClTesting.assumeOpenCl();
        try (OpenClExecutable e = (OpenClExecutable) OpenClTesting.compile(g)) {
            String src = e.kernels().getFirst().source();
            assertTrue(src.contains("const int jend = min(100, (int) get_group_id(0) * "), src);
        }
        assertMatchesReference(g, 6);
    }
}
