package dev.kiln.frontend.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.kiln.frontend.onnx.OnnxFields.*;

/**
 * Writes small ONNX models by hand, for the cases PyTorch does not export (or not on demand):
 * a protobuf encoder and a ModelProto builder using the field numbers in {@link OnnxFields}.
 */
final class OnnxTestModel {
    /** Protobuf encoding of one message. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) { tag(field, 0); raw(v); return this; }
        Proto f32(int field, float v) { tag(field, 5); le(Float.floatToIntBits(v), 4); return this; }
        Proto bytes(int field, byte[] b) { tag(field, 2); raw(b.length); out.writeBytes(b); return this; }
        Proto string(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }
        Proto message(int field, Proto m) { return bytes(field, m.toByteArray()); }

        Proto packedVarints(int field, long... v) {
            Proto p = new Proto();
            for (long x : v) p.raw(x);
            return bytes(field, p.toByteArray());
        }

        Proto packedFloats(int field, float... v) {
            Proto p = new Proto();
            for (float x : v) p.le(Float.floatToIntBits(x), 4);
            return bytes(field, p.toByteArray());
        }

        byte[] toByteArray() { return out.toByteArray(); }

        private void tag(int field, int wireType) { raw((long) field << 3 | wireType); }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) { out.write((int) (v & 0x7F) | 0x80); v >>>= 7; }
            out.write((int) v);
        }

        private void le(long v, int n) { for (int i = 0; i < n; i++) out.write((int) (v >>> (8 * i)) & 0xFF); }
    }

    private final List<Proto> nodes = new ArrayList<>(), inits = new ArrayList<>(), inputs = new ArrayList<>(), outputs = new ArrayList<>();
    private long opset = 17;

    OnnxTestModel opset(long v) { opset = v; return this; }

    /** A float input; dims are Integer (dim_value) or String (dim_param). */
    OnnxTestModel input(String name, Object... dims) { inputs.add(valueInfo(name, FLOAT, dims)); return this; }

    OnnxTestModel typedInput(String name, int elemType, Object... dims) { inputs.add(valueInfo(name, elemType, dims)); return this; }

    OnnxTestModel output(String name) { outputs.add(new Proto().string(VALUE_INFO_NAME, name)); return this; }

    OnnxTestModel floats(String name, long[] dims, float... data) { inits.add(floatTensor(name, dims, data)); return this; }

    OnnxTestModel ints(String name, long[] dims, long... data) { inits.add(intTensor(name, dims, data)); return this; }

    /** A node: op type, inputs, outputs, then attributes made with the attr helpers below. */
    OnnxTestModel node(String opType, String[] in, String[] out, Proto... attrs) {
        Proto n = new Proto().string(NODE_NAME, opType.toLowerCase() + "_" + nodes.size()).string(NODE_OP_TYPE, opType);
        for (String i : in) n.string(NODE_INPUT, i);
        for (String o : out) n.string(NODE_OUTPUT, o);
        for (Proto a : attrs) n.message(NODE_ATTRIBUTE, a);
        nodes.add(n);
        return this;
    }

    OnnxTestModel node(String opType, String in, String out, Proto... attrs) { return node(opType, new String[]{in}, new String[]{out}, attrs); }

    static String[] in(String... names) { return names; }

    static Proto attr(String name, long i) { return new Proto().string(ATTR_NAME, name).varint(ATTR_TYPE, ATTR_TYPE_INT).varint(ATTR_I, i); }

    static Proto attr(String name, float f) { return new Proto().string(ATTR_NAME, name).varint(ATTR_TYPE, ATTR_TYPE_FLOAT).f32(ATTR_F, f); }

    static Proto attr(String name, String s) { return new Proto().string(ATTR_NAME, name).varint(ATTR_TYPE, ATTR_TYPE_STRING).string(ATTR_S, s); }

    static Proto attrInts(String name, long... v) { return new Proto().string(ATTR_NAME, name).varint(ATTR_TYPE, ATTR_TYPE_INTS).packedVarints(ATTR_INTS, v); }

    static Proto attrTensor(String name, Proto tensor) { return new Proto().string(ATTR_NAME, name).varint(ATTR_TYPE, ATTR_TYPE_TENSOR).message(ATTR_T, tensor); }

    static Proto floatTensor(String name, long[] dims, float... data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) b.putFloat(f);
        return new Proto().packedVarints(TENSOR_DIMS, dims).varint(TENSOR_DATA_TYPE, FLOAT).string(TENSOR_NAME, name).bytes(TENSOR_RAW_DATA, b.array());
    }

    /** int64 data in int64_data (not raw_data), to cover the typed field. */
    static Proto intTensor(String name, long[] dims, long... data) {
        return new Proto().packedVarints(TENSOR_DIMS, dims).varint(TENSOR_DATA_TYPE, INT64).string(TENSOR_NAME, name).packedVarints(TENSOR_INT64_DATA, data);
    }

    private static Proto valueInfo(String name, int elemType, Object... dims) {
        Proto shape = new Proto();
        for (Object d : dims)
            shape.message(SHAPE_DIM, d instanceof String p ? new Proto().string(DIM_PARAM, p) : new Proto().varint(DIM_VALUE, ((Number) d).longValue()));
        Proto tensorType = new Proto().varint(TENSOR_TYPE_ELEM_TYPE, elemType).message(TENSOR_TYPE_SHAPE, shape);
        return new Proto().string(VALUE_INFO_NAME, name).message(VALUE_INFO_TYPE, new Proto().message(TYPE_TENSOR_TYPE, tensorType));
    }

    byte[] build() {
        Proto g = new Proto().string(GRAPH_NAME, "test");
        for (Proto n : nodes) g.message(GRAPH_NODE, n);
        for (Proto t : inits) g.message(GRAPH_INITIALIZER, t);
        for (Proto i : inputs) g.message(GRAPH_INPUT, i);
        for (Proto o : outputs) g.message(GRAPH_OUTPUT, o);
        return new Proto().varint(MODEL_IR_VERSION, 8).string(MODEL_PRODUCER_NAME, "kiln-test")
                .message(MODEL_OPSET_IMPORT, new Proto().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, opset))
                .message(MODEL_GRAPH, g).toByteArray();
    }
}
