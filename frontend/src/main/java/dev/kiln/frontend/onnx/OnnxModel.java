package dev.kiln.frontend.onnx;

import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX ModelProto that Kiln reads, as plain records (decoded by
 * {@link OnnxDecoder}). Names follow onnx.proto. Byte offsets are kept where a later error
 * may need to name the place in the file.
 */
final class OnnxModel {
    private OnnxModel() {}

    /** ModelProto: opset versions by domain ("" is the default domain). */
    record Model(String source, long irVersion, Map<String, Long> opsets, String producer, Graph graph) {
        /** The default domain's opset version, or -1 when the model imports none. */
        long defaultOpset() {
            Long v = opsets.get("");
            return v == null ? -1 : v;
        }

        long opset(String domain) {
            Long v = opsets.get(OnnxFields.isDefaultDomain(domain) ? "" : domain);
            return v == null ? -1 : v;
        }
    }

    /** GraphProto. */
    record Graph(String name, List<Node> nodes, List<Tensor> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs,
                 int sparseInitializers) {}

    /** NodeProto; {@code offset} is where the node's bytes start in the file. Absent optional inputs are "". */
    record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                Map<String, Attribute> attributes, int offset) {
        /** How errors name a node: its name, or its op type and position when it has none. */
        String label() { return name.isEmpty() ? opType + " at byte " + offset : name; }

        String input(int i) { return i < inputs.size() ? inputs.get(i) : ""; }

        Node with(String newOpType, String newDomain, List<String> newInputs, Map<String, Attribute> newAttributes) {
            return new Node(name, newOpType, newDomain, newInputs, outputs, newAttributes, offset);
        }
    }

    /**
     * AttributeProto. {@code type} is the AttributeType; only the field it names is meaningful.
     * Graph-valued attributes (control flow) are recorded as present but not decoded.
     */
    record Attribute(String name, int type, float f, long i, String s, Tensor t, float[] floats, long[] ints,
                     List<String> strings, String refAttrName) {
        static Attribute ofInts(String name, long... values) {
            return new Attribute(name, OnnxFields.ATTR_TYPE_INTS, 0, 0, "", null, new float[0], values, List.of(), "");
        }

        static Attribute ofInt(String name, long value) {
            return new Attribute(name, OnnxFields.ATTR_TYPE_INT, 0, value, "", null, new float[0], new long[0], List.of(), "");
        }
    }

    /** ValueInfoProto of a tensor: element type and dims; {@code dims} is null when the shape is unknown. */
    record ValueInfo(String name, int elemType, List<Dim> dims, boolean isTensor) {}

    /** TensorShapeProto.Dimension: a value, a symbolic name (dim_param), or neither (value -1, param ""). */
    record Dim(long value, String param) {
        boolean isStatic() { return value >= 0; }

        @Override public String toString() { return isStatic() ? Long.toString(value) : param.isEmpty() ? "?" : param; }
    }

    /**
     * TensorProto as stored: data in raw_data (a span of {@code file}) or in one of the typed
     * repeated fields, or outside the file (external data, which Kiln refuses at use).
     */
    record Tensor(String name, int dataType, long[] dims, byte[] file, int rawOffset, int rawLength, boolean hasRaw,
                  float[] floatData, long[] int32Data, long[] int64Data, double[] doubleData, long[] uint64Data,
                  String externalLocation, int offset) {
        boolean isExternal() { return externalLocation != null; }
    }
}
