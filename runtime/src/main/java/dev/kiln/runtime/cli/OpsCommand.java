package dev.kiln.runtime.cli;

import dev.kiln.frontend.onnx.OnnxImporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln ops}: the ONNX ops Kiln imports, from the importer's own table (the README's list is this, with --markdown). */
@Command(name = "ops", mixinStandardHelpOptions = true, description = "List the ONNX ops Kiln imports (opsets "
        + OnnxImporter.MIN_OPSET + " to " + OnnxImporter.MAX_OPSET + ").")
final class OpsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--markdown", description = "print the list as the README has it")
    boolean markdown;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(markdown ? markdown() : plain());
        return KilnCli.OK;
    }

    static String plain() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : OnnxImporter.supportedOps().entrySet())
            b.append(e.getKey()).append(e.getValue().equals("op") ? "" : "  (constant inputs only: folded at import)").append('\n');
        return b.toString();
    }

    /** Two sentences: the ops that become Kiln ops, then those folded as shape arithmetic. */
    static String markdown() {
        var ops = OnnxImporter.supportedOps();
        StringBuilder b = new StringBuilder("Imported (" + ops.values().stream().filter("op"::equals).count() + "): ");
        b.append(String.join(", ", ops.entrySet().stream().filter(e -> e.getValue().equals("op")).map(e -> "`" + e.getKey() + "`").toList()));
        b.append(".\n\nFolded at import when their inputs are constants (shape arithmetic): ");
        b.append(String.join(", ", ops.entrySet().stream().filter(e -> !e.getValue().equals("op")).map(e -> "`" + e.getKey() + "`").toList()));
        return b.append(".\n").toString();
    }
}
