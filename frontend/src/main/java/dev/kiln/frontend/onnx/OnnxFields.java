package dev.kiln.frontend.onnx;

/**
 * The protobuf field numbers and enum values Kiln reads, all in one place. They are the ones
 * published in onnx/onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, the
 * file that defines the ONNX format; stable since IR version 3); the message and field names
 * below are that file's. Fields not listed here are skipped.
 */
final class OnnxFields {
    private OnnxFields() {}

    /** message ModelProto */
    static final int MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3,
            MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8;

    /** message OperatorSetIdProto */
    static final int OPSET_DOMAIN = 1, OPSET_VERSION = 2;

    /** message GraphProto */
    static final int GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
            GRAPH_SPARSE_INITIALIZER = 15;

    /** message NodeProto */
    static final int NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5, NODE_DOMAIN = 7;

    /** message AttributeProto */
    static final int ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_T = 5, ATTR_G = 6, ATTR_FLOATS = 7,
            ATTR_INTS = 8, ATTR_STRINGS = 9, ATTR_GRAPHS = 11, ATTR_TYPE = 20, ATTR_REF_ATTR_NAME = 21;

    /** enum AttributeProto.AttributeType */
    static final int ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_STRING = 3, ATTR_TYPE_TENSOR = 4, ATTR_TYPE_GRAPH = 5,
            ATTR_TYPE_FLOATS = 6, ATTR_TYPE_INTS = 7, ATTR_TYPE_STRINGS = 8;

    /** message ValueInfoProto */
    static final int VALUE_INFO_NAME = 1, VALUE_INFO_TYPE = 2;

    /** message TypeProto (oneof value: tensor_type = 1, sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9) */
    static final int TYPE_TENSOR_TYPE = 1;

    /** message TypeProto.Tensor */
    static final int TENSOR_TYPE_ELEM_TYPE = 1, TENSOR_TYPE_SHAPE = 2;

    /** message TensorShapeProto, and its TensorShapeProto.Dimension */
    static final int SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2;

    /** message TensorProto */
    static final int TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_SEGMENT = 3, TENSOR_FLOAT_DATA = 4, TENSOR_INT32_DATA = 5,
            TENSOR_INT64_DATA = 7, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9, TENSOR_DOUBLE_DATA = 10,
            TENSOR_UINT64_DATA = 11, TENSOR_EXTERNAL_DATA = 13, TENSOR_DATA_LOCATION = 14;

    /** enum TensorProto.DataLocation */
    static final int DATA_LOCATION_EXTERNAL = 1;

    /** message StringStringEntryProto (TensorProto.external_data entries) */
    static final int ENTRY_KEY = 1, ENTRY_VALUE = 2;

    /** enum TensorProto.DataType */
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9,
            FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, COMPLEX64 = 14, COMPLEX128 = 15, BFLOAT16 = 16;

    /** TensorProto.DataType by name, for messages. */
    static String dataTypeName(int t) {
        return switch (t) {
            case FLOAT -> "float32";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case UINT16 -> "uint16";
            case INT16 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case STRING -> "string";
            case BOOL -> "bool";
            case FLOAT16 -> "float16";
            case DOUBLE -> "float64";
            case UINT32 -> "uint32";
            case UINT64 -> "uint64";
            case COMPLEX64 -> "complex64";
            case COMPLEX128 -> "complex128";
            case BFLOAT16 -> "bfloat16";
            default -> "data type " + t;
        };
    }

    /** The default operator set's domain, as opset_import and NodeProto.domain spell it. */
    static boolean isDefaultDomain(String domain) { return domain.isEmpty() || domain.equals("ai.onnx"); }
}
