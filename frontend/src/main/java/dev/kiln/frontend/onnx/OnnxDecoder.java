package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.OnnxModel.Attribute;
import dev.kiln.frontend.onnx.OnnxModel.Dim;
import dev.kiln.frontend.onnx.OnnxModel.Graph;
import dev.kiln.frontend.onnx.OnnxModel.Model;
import dev.kiln.frontend.onnx.OnnxModel.Node;
import dev.kiln.frontend.onnx.OnnxModel.Tensor;
import dev.kiln.frontend.onnx.OnnxModel.ValueInfo;
import dev.kiln.ir.MalformedFileException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.frontend.onnx.OnnxFields.*;

/** Decodes the bytes of an .onnx file (a serialised ModelProto) into {@link OnnxModel} records. */
final class OnnxDecoder {
    private final byte[] file;
    private final String source;

    private OnnxDecoder(byte[] file, String source) {
        this.file = file;
        this.source = source;
    }

    /** The model in these bytes; a MalformedFileException names the source and the byte offset of what is wrong. */
    static Model decode(byte[] bytes, String source) {
        if (bytes.length == 0) throw new MalformedFileException(source + ": empty file, not an ONNX model");
        return new OnnxDecoder(bytes, source).model();
    }

    private Model model() {
        ProtoReader r = new ProtoReader(file, source, "ModelProto");
        long irVersion = -1;
        Map<String, Long> opsets = new LinkedHashMap<>();
        String producer = "", producerVersion = "";
        Graph graph = null;
        while (r.next()) {
            switch (r.field()) {
                case MODEL_IR_VERSION -> irVersion = r.varint();
                case MODEL_PRODUCER_NAME -> producer = r.string();
                case MODEL_PRODUCER_VERSION -> producerVersion = r.string();
                case MODEL_GRAPH -> graph = graph(r.message("GraphProto"));
                case MODEL_OPSET_IMPORT -> opset(r.message("OperatorSetIdProto"), opsets);
                default -> r.skip();
            }
        }
        if (graph == null || irVersion < 0)
            throw new MalformedFileException(source + ": at byte " + file.length + ": the file ends without "
                    + (graph == null ? "a graph (ModelProto field 7)" : "an ir_version (ModelProto field 1)")
                    + ": not an ONNX model, or a truncated one");
        String prod = (producer + " " + producerVersion).strip();
        return new Model(source, irVersion, opsets, prod, graph);
    }

    private static void opset(ProtoReader r, Map<String, Long> out) {
        String domain = "";
        long version = -1;
        while (r.next()) {
            switch (r.field()) {
                case OPSET_DOMAIN -> domain = r.string();
                case OPSET_VERSION -> version = r.varint();
                default -> r.skip();
            }
        }
        out.put(isDefaultDomain(domain) ? "" : domain, version);
    }

    private Graph graph(ProtoReader r) {
        String name = "";
        List<Node> nodes = new ArrayList<>();
        List<Tensor> inits = new ArrayList<>();
        List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        int sparse = 0;
        while (r.next()) {
            switch (r.field()) {
                case GRAPH_NODE -> nodes.add(node(r));
                case GRAPH_NAME -> name = r.string();
                case GRAPH_INITIALIZER -> inits.add(tensor(r.message("TensorProto"), r.tagOffset()));
                case GRAPH_INPUT -> inputs.add(valueInfo(r.message("ValueInfoProto")));
                case GRAPH_OUTPUT -> outputs.add(valueInfo(r.message("ValueInfoProto")));
                case GRAPH_SPARSE_INITIALIZER -> { r.skip(); sparse++; }
                default -> r.skip();
            }
        }
        return new Graph(name, nodes, inits, inputs, outputs, sparse);
    }

    private Node node(ProtoReader outer) {
        int offset = outer.tagOffset();
        ProtoReader r = outer.message("NodeProto");
        String name = "", opType = "", domain = "";
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case NODE_INPUT -> in.add(r.string());
                case NODE_OUTPUT -> out.add(r.string());
                case NODE_NAME -> name = r.string();
                case NODE_OP_TYPE -> opType = r.string();
                case NODE_DOMAIN -> domain = r.string();
                case NODE_ATTRIBUTE -> {
                    Attribute a = attribute(r.message("AttributeProto"));
                    attrs.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        if (opType.isEmpty()) throw new MalformedFileException(source + ": at byte " + offset + ": node '" + name + "' has no op_type");
        return new Node(name, opType, domain, in, out, attrs, offset);
    }

    private Attribute attribute(ProtoReader r) {
        String name = "", s = "", ref = "";
        int type = 0;
        float f = 0;
        long i = 0;
        Tensor t = null;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        List<String> strings = new ArrayList<>();
        boolean graph = false;
        while (r.next()) {
            switch (r.field()) {
                case ATTR_NAME -> name = r.string();
                case ATTR_TYPE -> type = r.int32();
                case ATTR_F -> f = r.fixed32Float();
                case ATTR_I -> i = r.varint();
                case ATTR_S -> s = r.string();
                case ATTR_T -> t = tensor(r.message("TensorProto"), r.tagOffset());
                case ATTR_FLOATS -> r.floats(floats);
                case ATTR_INTS -> r.int64s(ints);
                case ATTR_STRINGS -> strings.add(r.string());
                case ATTR_G, ATTR_GRAPHS -> { graph = true; r.skip(); }
                case ATTR_REF_ATTR_NAME -> ref = r.string();
                default -> r.skip();
            }
        }
        // IR versions before 3 left type unset; infer it from the field that is present.
        if (type == 0) {
            if (graph) type = ATTR_TYPE_GRAPH;
            else if (t != null) type = ATTR_TYPE_TENSOR;
            else if (ints.size() > 0) type = ATTR_TYPE_INTS;
            else if (floats.size() > 0) type = ATTR_TYPE_FLOATS;
            else if (!strings.isEmpty()) type = ATTR_TYPE_STRINGS;
            else if (!s.isEmpty()) type = ATTR_TYPE_STRING;
            else if (f != 0) type = ATTR_TYPE_FLOAT;
            else type = ATTR_TYPE_INT;
        }
        return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray(), strings, ref);
    }

    private ValueInfo valueInfo(ProtoReader r) {
        String name = "";
        int elemType = 0;
        List<Dim> dims = null;
        boolean isTensor = false;
        while (r.next()) {
            switch (r.field()) {
                case VALUE_INFO_NAME -> name = r.string();
                case VALUE_INFO_TYPE -> {
                    ProtoReader type = r.message("TypeProto");
                    while (type.next()) {
                        if (type.field() != TYPE_TENSOR_TYPE) { type.skip(); continue; }
                        isTensor = true;
                        ProtoReader tt = type.message("TypeProto.Tensor");
                        while (tt.next()) {
                            switch (tt.field()) {
                                case TENSOR_TYPE_ELEM_TYPE -> elemType = tt.int32();
                                case TENSOR_TYPE_SHAPE -> dims = shape(tt.message("TensorShapeProto"));
                                default -> tt.skip();
                            }
                        }
                    }
                }
                default -> r.skip();
            }
        }
        return new ValueInfo(name, elemType, dims, isTensor);
    }

    private static List<Dim> shape(ProtoReader r) {
        List<Dim> dims = new ArrayList<>();
        while (r.next()) {
            if (r.field() != SHAPE_DIM) { r.skip(); continue; }
            ProtoReader d = r.message("TensorShapeProto.Dimension");
            long value = -1;
            String param = "";
            while (d.next()) {
                switch (d.field()) {
                    case DIM_VALUE -> value = d.varint();
                    case DIM_PARAM -> param = d.string();
                    default -> d.skip();
                }
            }
            dims.add(new Dim(value, param));
        }
        return dims;
    }

    private Tensor tensor(ProtoReader r, int offset) {
        String name = "", location = null;
        int dataType = 0, rawOffset = 0, rawLength = 0;
        boolean hasRaw = false, external = false;
        ProtoReader.LongList dims = new ProtoReader.LongList(), int32 = new ProtoReader.LongList(),
                int64 = new ProtoReader.LongList(), uint64 = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.DoubleList doubles = new ProtoReader.DoubleList();
        while (r.next()) {
            switch (r.field()) {
                case TENSOR_DIMS -> r.int64s(dims);
                case TENSOR_DATA_TYPE -> dataType = r.int32();
                case TENSOR_FLOAT_DATA -> r.floats(floats);
                case TENSOR_INT32_DATA -> r.int64s(int32);
                case TENSOR_INT64_DATA -> r.int64s(int64);
                case TENSOR_UINT64_DATA -> r.int64s(uint64);
                case TENSOR_DOUBLE_DATA -> r.doubles(doubles);
                case TENSOR_NAME -> name = r.string();
                case TENSOR_RAW_DATA -> {
                    int[] span = r.span();
                    rawOffset = span[0];
                    rawLength = span[1];
                    hasRaw = true;
                }
                case TENSOR_DATA_LOCATION -> external |= r.varint() == DATA_LOCATION_EXTERNAL;
                case TENSOR_EXTERNAL_DATA -> {
                    external = true;
                    ProtoReader e = r.message("StringStringEntryProto");
                    String key = "", value = "";
                    while (e.next()) {
                        switch (e.field()) {
                            case ENTRY_KEY -> key = e.string();
                            case ENTRY_VALUE -> value = e.string();
                            default -> e.skip();
                        }
                    }
                    if (key.equals("location")) location = value;
                }
                case TENSOR_SEGMENT -> throw new MalformedFileException(source + ": at byte " + offset
                        + ": tensor '" + name + "' is segmented (TensorProto.segment), which Kiln does not read");
                default -> r.skip();
            }
        }
        if (external && location == null) location = "";
        return new Tensor(name, dataType, dims.toArray(), file, rawOffset, rawLength, hasRaw, floats.toArray(), int32.toArray(),
                int64.toArray(), doubles.toArray(), uint64.toArray(), location, offset);
    }
}
