package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The passes scale with the graph: use-lists are indexed once per graph, not found by scanning every node per question. */
class LargeGraphsTest {
    static final int BLOCKS = 6_667;   // three nodes each: 20,001 nodes

    /** x → (linear → + per-channel constant → relu) × BLOCKS: every block is an epilogue chain to fuse. */
    static Graph longChain() {
        GraphBuilder b = new GraphBuilder("long_chain");
        String x = b.input("x", TensorType.f32(1, 8));
        String w = b.constant("w", HostTensor.normal(dev.kiln.ir.Shape.of(8, 8), 1));
        String bias = b.constant("b", HostTensor.normal(dev.kiln.ir.Shape.of(8), 2));
        String shift = b.constant("c", HostTensor.normal(dev.kiln.ir.Shape.of(8), 3));
        for (int i = 0; i < BLOCKS; i++) {
            x = b.add(new Linear(), List.of(x, w, bias), "block" + i);
            x = b.add(new Binary(Binary.Kind.ADD), List.of(x, shift), "block" + i);
            x = b.add(Unary.of(Unary.Kind.RELU), List.of(x), "block" + i);
        }
        return b.output(x).build();
    }

    @Test
    void defaultPipelineRunsOnATwentyThousandNodeChainInSeconds() {
        Graph g = longChain();
        long t0 = System.nanoTime();
        var result = PassManager.defaults().run(g);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("[kiln-passes] default pipeline on %d nodes: %.2f s (%s)%n", g.nodes().size(), seconds,
                result.stats().stream().map(s -> String.format("%s %.0f ms", s.pass(), s.millis())).toList());
        assertEquals(BLOCKS, result.report().count("fuse-epilogues"), "every block fuses");
        assertEquals(BLOCKS, result.graph().nodes().stream().filter(n -> n.op() instanceof Linear l && !l.epilogue().isNone()).count(),
                result.stats()::toString);
        assertTrue(seconds < 10, "the default pipeline took " + seconds + " s on " + g.nodes().size() + " nodes");
    }
}
