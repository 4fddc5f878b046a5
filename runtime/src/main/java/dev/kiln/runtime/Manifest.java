package dev.kiln.runtime;

import dev.kiln.ir.Graph;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manifest section of an artifact: what it is and how to call it, as {@code key=value}
 * lines in a fixed order (values escape backslash and newline), so saving is byte-for-byte
 * reproducible:
 * <pre>
 * format=1
 * kiln-version=0.1.0
 * target=cpu
 * graph=SmallCnn
 * inputs=1
 * input.0=f32[1,3,24,24] x
 * outputs=1
 * output.0=f32[1,10] t11
 * </pre>
 */
public record Manifest(int format, String kilnVersion, String target, String graphName, Signature signature) {

    static Manifest of(Graph g, String target) {
        return new Manifest(ArtifactContainer.FORMAT_VERSION, Kiln.VERSION, target, g.name(), Signature.of(g));
    }

    String toText() {
        StringBuilder b = new StringBuilder();
        line(b, "format", Integer.toString(format));
        line(b, "kiln-version", kilnVersion);
        line(b, "target", target);
        line(b, "graph", graphName);
        values(b, "input", signature.inputs());
        values(b, "output", signature.outputs());
        return b.toString();
    }

    private static void values(StringBuilder b, String kind, List<Graph.Value> vs) {
        line(b, kind + "s", Integer.toString(vs.size()));
        for (int i = 0; i < vs.size(); i++) line(b, kind + "." + i, vs.get(i).type() + " " + vs.get(i).name());
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(key).append('=').append(value.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
    }

    /** Reads the text back; a missing or bad field is a MalformedFileException naming it. */
    static Manifest parse(String text, String source) {
        Map<String, String> fields = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.isEmpty()) continue;
            int eq = line.indexOf('=');
            if (eq <= 0) throw bad(source, "line " + lineNo + " is not key=value: '" + line + "'");
            if (fields.put(line.substring(0, eq), unescape(line.substring(eq + 1))) != null)
                throw bad(source, "field '" + line.substring(0, eq) + "' appears twice");
        }
        int format = integer(fields, "format", source);
        Signature sig = new Signature(values(fields, "input", source), values(fields, "output", source));
        return new Manifest(format, field(fields, "kiln-version", source), field(fields, "target", source),
                field(fields, "graph", source), sig);
    }

    private static List<Graph.Value> values(Map<String, String> fields, String kind, String source) {
        int n = integer(fields, kind + "s", source);
        if (n < 0 || n > fields.size()) throw bad(source, "field '" + kind + "s' has an impossible count " + n);
        List<Graph.Value> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String key = kind + "." + i, v = field(fields, key, source);
            int sp = v.indexOf(' ');
            if (sp <= 0) throw bad(source, "field '" + key + "' must be 'TYPE NAME', got '" + v + "'");
            try {
                out.add(new Graph.Value(v.substring(sp + 1), TensorType.parse(v.substring(0, sp))));
            } catch (RuntimeException e) {
                throw bad(source, "field '" + key + "': " + e.getMessage());
            }
        }
        return out;
    }

    private static String field(Map<String, String> fields, String key, String source) {
        String v = fields.get(key);
        if (v == null) throw bad(source, "field '" + key + "' is missing");
        return v;
    }

    private static int integer(Map<String, String> fields, String key, String source) {
        String v = field(fields, key, source);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw bad(source, "field '" + key + "' is not an integer: '" + v + "'");
        }
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n);
            } else b.append(c);
        }
        return b.toString();
    }

    private static MalformedFileException bad(String source, String detail) {
        return new MalformedFileException(source + ": manifest " + detail);
    }
}
