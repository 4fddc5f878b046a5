package dev.kiln.frontend.onnx;

import java.util.HashMap;
import java.util.Map;

/**
 * Lowers one ONNX node to IR nodes (or to a constant), defining its outputs through the view.
 * Throws {@code n.unsupported(...)} for what Kiln cannot express.
 */
@FunctionalInterface
interface OpImporter {
    void lower(NodeView n);

    /** Domain of the nodes {@link ImportPatterns} makes from recognised subgraphs (Gelu, LinearBias). */
    String KILN_DOMAIN = "dev.kiln.import";

    /** Every importer by key: the op type for the default domain, "domain:type" for others. */
    static Map<String, OpImporter> registry() {
        Map<String, OpImporter> r = new HashMap<>();
        NnOps.register(r);
        ElementwiseOps.register(r);
        ShapeOps.register(r);
        SpaceDepthOps.register(r);
        ResizeOp.register(r);
        r.put("LSTM", RecurrentOp::lstm);
        r.put("GRU", RecurrentOp::gru);
        r.put("Split", SplitOp::lower);
        ReduceOps.register(r);
        NormOps.register(r);
        r.put("ConvTranspose", ConvTransposeOp::lower);
        IntegerOps.register(r);
        return Map.copyOf(r);
    }

    static String key(String domain, String opType) {
        return OnnxFields.isDefaultDomain(domain) ? opType : domain + ":" + opType;
    }
}
