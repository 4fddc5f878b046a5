package dev.kiln.passes;

import dev.kiln.ir.Graph;

/** One named graph rewrite. A pass never mutates its input; it returns a new graph (or the same one if nothing fired). */
public interface Pass {
    /** Kebab-case name used by pipelines, dumps and reports: "fuse-attention". */
    String name();

    Graph run(Graph g, PassContext ctx);
}
