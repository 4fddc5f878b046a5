package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.Op;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the text IR written by {@link IrPrinter}. Ops are found by mnemonic among the
 * permitted subclasses of {@link Op} and built through their canonical constructors, so a
 * new op needs no parser code. Errors name the source, line and column. Constants come back
 * without data: bind weights with {@link Graph#withWeights}.
 */
public final class IrParser {
    private static final Map<String, Class<?>> OPS = new HashMap<>();
    static {
        for (Class<?> c : Op.class.getPermittedSubclasses()) OPS.put(Op.mnemonicOf(c), c);
    }

    private final String src, source;
    private int pos;

    private IrParser(String src, String source) { this.src = src; this.source = source; }

    public static Graph parse(String text) { return parse(text, "<ir>"); }

    /** Parses and verifies; {@code source} names the text in error messages (a file name). */
    public static Graph parse(String text, String source) {
        IrParser p = new IrParser(text, source);
        Graph g = p.graph();
        Verifier.verify(g);
        p.skipSpace();
        if (p.pos < text.length()) throw p.error("unexpected text after the graph");
        return g;
    }

    private Graph graph() {
        expect("graph"); expect("@");
        GraphBuilder b = new GraphBuilder(name());
        expect("(");
        if (!peek(")")) do {
            expect("%");
            String n = name();
            expect(":");
            b.input(n, type());
        } while (accept(","));
        expect(")"); expect("{");
        while (true) {
            if (accept("const")) {
                expect("%");
                String n = name();
                expect(":");
                b.declareConstant(n, type(), null);
            } else if (accept("return")) {
                do { expect("%"); b.output(use(b)); } while (accept(","));
                expect("}");
                return b.build();
            } else {
                int at = pos;
                expect("%");
                String n = name();
                expect(":");
                TensorType t = type();
                expect("=");
                ParsedOp op = op(b);
                String loc = origin();
                try {
                    List<TensorType> operands = op.inputs().stream().map(b::typeOf).toList();
                    TensorType inferred = op.op().inferType(operands);
                    if (!inferred.equals(t))
                        throw new ShapeException("%" + n + " is declared " + t + " but " + op.op().mnemonic() + " of " + operands + " gives " + inferred);
                    b.addTyped(new Node(n, op.op(), op.inputs(), t, loc));
                } catch (KilnException e) {
                    pos = at;
                    throw error(e.getMessage());
                }
            }
        }
    }

    private record ParsedOp(Op op, List<String> inputs) {}

    private ParsedOp op(GraphBuilder b) {
        skipSpace();
        int at = pos;
        String mnemonic = word();
        // artifacts written before global average pooling became a mean reduction still load
        boolean legacyGap = mnemonic.equals("global_avg_pool");
        Class<?> c = legacyGap ? dev.kiln.ir.op.Reduce.class : OPS.get(mnemonic);
        if (c == null) { pos = at; throw error("unknown op '" + mnemonic + "'"); }
        expect("(");
        List<String> in = new ArrayList<>();
        if (!peek(")")) do { expect("%"); in.add(use(b)); } while (accept(","));
        expect(")");
        Map<String, String> attrs = new HashMap<>();
        if (accept("{")) {
            if (!peek("}")) do {
                String key = word();
                expect("=");
                attrs.put(key, rawValue());
            } while (accept(","));
            expect("}");
        }
        if (legacyGap) {
            if (!attrs.isEmpty()) { pos = at; throw error("global_avg_pool has no attribute(s) " + attrs.keySet()); }
            return new ParsedOp(dev.kiln.ir.op.Reduce.globalAvgPool(), in);
        }
        return new ParsedOp(construct(c, attrs, at), in);
    }

    private Op construct(Class<?> c, Map<String, String> attrs, int at) {
        RecordComponent[] rcs = c.getRecordComponents();
        Object[] args = new Object[rcs.length];
        Class<?>[] types = new Class<?>[rcs.length];
        for (int i = 0; i < rcs.length; i++) {
            types[i] = rcs[i].getType();
            String raw = attrs.remove(rcs[i].getName());
            if (raw == null && types[i] == Epilogue.class) { args[i] = Epilogue.NONE; continue; }   // the printer leaves an empty one out
            if (raw == null) { pos = at; throw error(Op.mnemonicOf(c) + " needs attribute '" + rcs[i].getName() + "'"); }
            args[i] = convert(raw, types[i], rcs[i].getName(), at);
        }
        if (!attrs.isEmpty()) { pos = at; throw error(Op.mnemonicOf(c) + " has no attribute(s) " + attrs.keySet()); }
        try {
            Constructor<?> k = c.getDeclaredConstructor(types);
            return (Op) k.newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            pos = at;
            throw error("bad attributes for " + Op.mnemonicOf(c) + ": " + e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object convert(String raw, Class<?> type, String attr, int at) {
        try {
            if (type == int.class) return Integer.parseInt(raw);
            if (type == float.class) return Float.parseFloat(raw);
            if (type == boolean.class) {
                if (!raw.equals("true") && !raw.equals("false")) throw new IllegalArgumentException("not a boolean");
                return Boolean.parseBoolean(raw);
            }
            if (type == String.class) return new IrParser(raw, source).string();
            if (type == Ints.class) return Ints.parse(raw);
            if (type.isEnum()) return Enum.valueOf((Class<Enum>) type, raw.toUpperCase(Locale.ROOT));
            if (type == Act.class) return Act.parse(raw);
            if (type == Epilogue.class) return Epilogue.parse(raw);
        } catch (RuntimeException e) {
            pos = at;
            throw error("attribute '" + attr + "' has bad value '" + raw + "' (" + e.getMessage() + ")");
        }
        throw new IllegalStateException("unsupported attribute type " + type);
    }

    /** A value name that must already be defined; the error points at the use. */
    private String use(GraphBuilder b) {
        int at = pos;
        String n = name();
        if (b.typeOf(n) == null) { pos = at - 1; throw error("%" + n + " is not defined before this use"); }
        return n;
    }

    private String origin() {
        if (!accept("loc")) return "";
        expect("(");
        String s = string();
        expect(")");
        return s;
    }

    private TensorType type() {
        skipSpace();
        int at = pos;
        while (pos < src.length() && src.charAt(pos) != ']') pos++;
        if (pos == src.length()) { pos = at; throw error("unterminated tensor type"); }
        pos++;
        try {
            return TensorType.parse(src.substring(at, pos));
        } catch (RuntimeException e) {
            String text = src.substring(at, pos);
            pos = at;
            throw error("bad tensor type '" + text + "': " + e.getMessage());
        }
    }

    /** One attribute value as text: a bracketed list, a quoted string or a bare token. */
    private String rawValue() {
        skipSpace();
        int at = pos;
        if (peek("[")) { while (pos < src.length() && src.charAt(pos) != ']') pos++; pos++; }
        else if (peek("\"")) string();
        else {
            // a word, with a parenthesised parameter list for activations: clip(0.0,6.0)
            while (pos < src.length() && ",}(".indexOf(src.charAt(pos)) < 0 && !Character.isWhitespace(src.charAt(pos))) pos++;
            if (peek("(")) { while (pos < src.length() && src.charAt(pos) != ')') pos++; pos++; }
        }
        if (pos > src.length()) throw error("unterminated value");
        return src.substring(at, pos).strip();
    }

    private String name() {
        skipSpace();
        if (peek("\"")) return string();
        int at = pos;
        while (pos < src.length() && IrPrinter.isNameChar(src.charAt(pos))) pos++;
        if (at == pos) throw error("expected a name");
        return src.substring(at, pos);
    }

    private String word() {
        skipSpace();
        int at = pos;
        while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
        if (at == pos) throw error("expected a word");
        return src.substring(at, pos);
    }

    private String string() {
        expect("\"");
        int open = pos - 1;
        StringBuilder b = new StringBuilder();
        while (pos < src.length() && src.charAt(pos) != '"') {
            char c = src.charAt(pos++);
            if (c == '\\' && pos < src.length()) {
                char e = src.charAt(pos++);
                b.append(e == 'n' ? '\n' : e);
            } else b.append(c);
        }
        if (pos >= src.length()) { pos = open; throw error("unterminated string"); }
        pos++;
        return b.toString();
    }

    private void skipSpace() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (Character.isWhitespace(c)) pos++;
            else if (src.startsWith("//", pos)) { while (pos < src.length() && src.charAt(pos) != '\n') pos++; }
            else break;
        }
    }

    private boolean peek(String s) { skipSpace(); return src.startsWith(s, pos); }

    private boolean accept(String s) {
        if (!peek(s)) return false;
        // a keyword must not be the prefix of a longer word
        int end = pos + s.length();
        if (Character.isLetter(s.charAt(0)) && end < src.length() && Character.isLetterOrDigit(src.charAt(end))) return false;
        pos = end;
        return true;
    }

    private void expect(String s) {
        if (!accept(s)) throw error("expected '" + s + "'");
    }

    private MalformedFileException error(String what) {
        int line = 1, col = 1;
        for (int i = 0; i < Math.min(pos, src.length()); i++) { if (src.charAt(i) == '\n') { line++; col = 1; } else col++; }
        return new MalformedFileException(source + ":" + line + ":" + col + ": " + what);
    }
}
