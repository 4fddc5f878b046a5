package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.ImportContext.Value;
import dev.kiln.frontend.onnx.OnnxModel.Attribute;
import dev.kiln.frontend.onnx.OnnxModel.Node;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.UnsupportedOpException;
import dev.kiln.ir.op.Op;

import java.util.Arrays;
import java.util.List;

/**
 * One ONNX node as an op importer sees it: its inputs as {@link Value}s, its attributes with
 * their ONNX defaults, and the means to emit IR nodes and define its outputs. An importer that
 * meets something Kiln cannot express throws {@link #unsupported}; the importer collects those
 * from every node and reports them together.
 */
final class NodeView {
    final ImportContext ctx;
    final Node node;

    NodeView(ImportContext ctx, Node node) {
        this.ctx = ctx;
        this.node = node;
    }

    String opType() { return node.opType(); }
    String origin() { return node.label(); }

    // ---- inputs ----

    int inputCount() { return node.inputs().size(); }

    boolean has(int i) { return !node.input(i).isEmpty(); }

    Value in(int i) {
        if (!has(i)) throw malformed("input " + i + " is required but absent");
        return ctx.value(node.input(i), node);
    }

    /** Input i, or null when it is absent (optional inputs may be "" or left off). */
    Value opt(int i) { return has(i) ? in(i) : null; }

    /** Input i, which must be known at import time. */
    ConstTensor constIn(int i, String what) {
        if (in(i) instanceof Value.Const c) return c.data();
        throw unsupported("its " + what + " input '" + node.input(i) + "' is computed at run time; Kiln needs it to be a constant"
                + " (static shapes: export with fixed input sizes, or pass input shapes so the shape arithmetic folds)");
    }

    /** Input i as an IR value name (constants are declared in the graph). */
    String ir(int i) { return ctx.ir(in(i), node, false); }

    /** Input i as an IR value, bool and integer constants included as f32 data (masks, compared values). */
    String mask(int i) { return ctx.ir(in(i), node, true); }

    int[] dims(int i) { return ctx.dims(in(i)); }
    int rank(int i) { return dims(i).length; }

    // ---- attributes ----

    boolean hasAttr(String name) { return node.attributes().containsKey(name); }

    long attrInt(String name, long dflt) {
        Attribute a = node.attributes().get(name);
        return a == null ? dflt : a.i();
    }

    float attrFloat(String name, float dflt) {
        Attribute a = node.attributes().get(name);
        return a == null ? dflt : a.f();
    }

    String attrString(String name, String dflt) {
        Attribute a = node.attributes().get(name);
        return a == null ? dflt : a.s();
    }

    /** An ints attribute, or dflt (may be null) when absent. */
    long[] attrInts(String name, long[] dflt) {
        Attribute a = node.attributes().get(name);
        return a == null ? dflt : a.ints();
    }

    List<String> attrStrings(String name) {
        Attribute a = node.attributes().get(name);
        return a == null ? List.of() : a.strings();
    }

    Attribute attr(String name) { return node.attributes().get(name); }

    // ---- outputs ----

    String out(int i) { return i < node.outputs().size() ? node.outputs().get(i) : ""; }

    int outputCount() { return node.outputs().size(); }

    /** Whether output i exists and a live node or graph output reads it. */
    boolean used(int i) { return !out(i).isEmpty() && ctx.isUsed(out(i)); }

    void set(int i, Value v) { if (!out(i).isEmpty()) ctx.define(out(i), v); }

    void setIr(int i, String irName) { set(i, new Value.Ir(irName)); }

    void setConst(int i, ConstTensor t) { set(i, new Value.Const(out(i), t)); }

    /** Emits op as output 0 of this node (named after the ONNX output) and defines it. */
    String emitOut(Op op, List<String> inputs) {
        String v = ctx.emit(out(0), op, inputs, origin());
        setIr(0, v);
        return v;
    }

    /** Emits an intermediate IR node named after output 0 with a suffix. */
    String emit(String suffix, Op op, List<String> inputs) {
        return ctx.emit(ImportContext.irName(out(0)) + "." + suffix, op, inputs, origin());
    }

    /** Declares a constant made by this importer (a transposed weight, a reordered bias). */
    String constant(String hint, HostTensor data) { return ctx.constant(hint, data); }

    // ---- errors ----

    UnsupportedOpException unsupported(String reason) {
        return new UnsupportedOpException(reason);
    }

    MalformedFileException malformed(String reason) {
        return new MalformedFileException(ctx.source + ": at byte " + node.offset() + ": node '" + origin() + "' (" + opType() + "): " + reason);
    }

    /** Axis normalised against rank, or an error naming the attribute. */
    int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw malformed(what + " " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] > Integer.MAX_VALUE || v[i] < Integer.MIN_VALUE) throw new IllegalArgumentException("value out of int range: " + Arrays.toString(v));
            out[i] = (int) v[i];
        }
        return out;
    }
}
