package dev.kiln.passes;

import java.util.List;

/** Every pass Kiln has, by name, and the default pipeline's order. */
public final class Passes {
    private Passes() {}

    /**
     * Canonicalise first (so patterns appear in one form; x·σ(x) and its kin become the one
     * activation they are, so the producer of x has one reader), fuse attention before epilogues (the
     * attention's gate is an epilogue), epilogues before depthwise+pointwise (which then takes
     * both convs with their activations), pools into convs last (nothing may follow a pool), and
 * clean up at the end.
     */
    public static final List<String> DEFAULT = List.of(
            "shape-inference", "simplify-reshapes", "fold-batch-norm", "constant-folding", "dce", "cse",
            "recognise-self-gated", "fuse-attention", "fuse-epilogues", "fuse-residual-layer-norm", "fuse-depthwise-pointwise", "fuse-pool-into-conv", "dce");

    public static List<Pass> all() {
        return List.of(new ShapeInference(), new SimplifyReshapes(), new FoldBatchNorm(), new ConstantFolding(),
                new CommonSubexpressionElimination(), new RecogniseSelfGated(), new FuseAttention(), new FuseEpilogues(),
                new FuseResidualLayerNorm(), new FuseDepthwisePointwise(), new FusePoolIntoConv(), new DeadCodeElimination());
    }

    public static List<Pass> defaultPipeline() { return DEFAULT.stream().map(Passes::byName).toList(); }

    public static Pass byName(String name) {
        return all().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown pass '" + name + "'; known: " + all().stream().map(Pass::name).toList()));
    }
}
