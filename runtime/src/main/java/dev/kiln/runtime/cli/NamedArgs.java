package dev.kiln.runtime.cli;

import dev.kiln.ir.Shape;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses the CLI's {@code NAME=VALUE} arguments: input shapes, and named input/output files. */
final class NamedArgs {
    private NamedArgs() {}

    /** An argument with an optional name: {@code x=in.npy} or {@code in.npy}. */
    record Named(String name, String value) {}

    /** {@code NAME=1x3x224x224} (or {@code NAME=1,3,224,224}) per argument; a usage error otherwise. */
    static Map<String, Shape> shapes(CommandSpec cmd, List<String> args) {
        Map<String, Shape> out = new LinkedHashMap<>();
        if (args == null) return out;
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0 || eq == a.length() - 1)
                throw usage(cmd, "--input-shape must look like NAME=1x3x224x224, got '" + a + "'");
            String name = a.substring(0, eq);
            if (out.put(name, shape(cmd, a.substring(eq + 1), a)) != null) throw usage(cmd, "--input-shape given twice for '" + name + "'");
        }
        return out;
    }

    private static Shape shape(CommandSpec cmd, String dims, String arg) {
        String[] parts = dims.split("[x,]", -1);
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                d[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                d[i] = -1;
            }
            if (d[i] <= 0) throw usage(cmd, "--input-shape '" + arg + "': dimension '" + parts[i] + "' is not a positive integer");
        }
        return Shape.of(d);
    }

    /**
     * {@code NAME=FILE} when the text before the first '=' looks like a name (no path separator,
     * no file extension); otherwise the whole argument is an unnamed file.
     */
    static Named file(String arg) {
        int eq = arg.indexOf('=');
        if (eq > 0) {
            String name = arg.substring(0, eq);
            if (!name.contains("/") && !name.contains("\\") && !name.endsWith(".npy")) return new Named(name, arg.substring(eq + 1));
        }
        return new Named(null, arg);
    }

    static ParameterException usage(CommandSpec cmd, String message) { return new ParameterException(cmd.commandLine(), message); }
}
