package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Op;

import java.lang.reflect.RecordComponent;
import java.util.Locale;

/**
 * Prints a graph as text IR; {@link IrParser} reads it back to an equal graph. Example:
 * <pre>
 * graph @dwsep(%x: f32[1,32,56,56]) {
 *   const %depthwise.weight: f32[32,1,3,3]
 *   %t0: f32[1,32,56,56] = conv2d(%x, %depthwise.weight) {stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=32} loc("depthwise")
 *   return %t0
 * }
 * </pre>
 * Attributes are printed from the op record's components, so no op needs printing code. An
 * empty epilogue is left out ({@code conv2d(...)} is a plain conv; the parser reads a missing
 * epilogue as {@link Epilogue#NONE}); any other prints as {@code epilogue=[add, relu, mul]}.
 */
public final class IrPrinter {
    private IrPrinter() {}

    public static String print(Graph g) {
        StringBuilder b = new StringBuilder("graph @").append(name(g.name())).append('(');
        for (int i = 0; i < g.inputs().size(); i++) {
            if (i > 0) b.append(", ");
            b.append('%').append(name(g.inputs().get(i).name())).append(": ").append(g.inputs().get(i).type());
        }
        b.append(") {\n");
        for (var c : g.constants().entrySet())
            b.append("  const %").append(name(c.getKey())).append(": ").append(c.getValue()).append('\n');
        for (Node n : g.nodes()) b.append("  ").append(node(n)).append('\n');
        b.append("  return ");
        for (int i = 0; i < g.outputs().size(); i++) b.append(i > 0 ? ", %" : "%").append(name(g.outputs().get(i)));
        return b.append("\n}\n").toString();
    }

    public static String node(Node n) {
        StringBuilder b = new StringBuilder("%").append(name(n.name())).append(": ").append(n.type())
                .append(" = ").append(n.op().mnemonic()).append('(');
        for (int i = 0; i < n.inputs().size(); i++) b.append(i > 0 ? ", %" : "%").append(name(n.inputs().get(i)));
        b.append(')');
        String attrs = attributes(n.op());
        if (!attrs.isEmpty()) b.append(" {").append(attrs).append('}');
        if (!n.origin().isEmpty()) b.append(" loc(").append(quote(n.origin())).append(')');
        return b.toString();
    }

    /** "stride=[1,1], groups=32": the op's attributes in record order (an empty epilogue left out). */
    public static String attributes(Op op) {
        StringBuilder b = new StringBuilder();
        for (RecordComponent rc : op.getClass().getRecordComponents()) {
            Object v = read(rc, op);
            if (v instanceof Epilogue e && e.isNone()) continue;
            if (!b.isEmpty()) b.append(", ");
            b.append(rc.getName()).append('=').append(value(v));
        }
        return b.toString();
    }

    private static Object read(RecordComponent rc, Op op) {
        try {
            return rc.getAccessor().invoke(op);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read attribute " + rc.getName() + " of " + op.mnemonic(), e);
        }
    }

    private static String value(Object v) {
        return switch (v) {
            case Ints a -> a.toString();
            case Float f -> Float.toString(f);
            case Integer i -> Integer.toString(i);
            case Boolean z -> Boolean.toString(z);
            case String s -> quote(s);
            case Enum<?> e -> e.name().toLowerCase(Locale.ROOT);
            case Act a -> a.toString();
            case Epilogue e -> e.toString();
            default -> throw new IllegalStateException("attribute type not printable: " + v.getClass());
        };
    }

    /** Bare if it is a plain identifier, else quoted. */
    static String name(String n) {
        return !n.isEmpty() && n.chars().allMatch(IrPrinter::isNameChar) ? n : quote(n);
    }

    static boolean isNameChar(int c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$' || c == '-';
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
