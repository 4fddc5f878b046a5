package dev.kiln.runtime.cli;

import dev.kiln.ir.KilnException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * The {@code kiln} command. Exit codes: 0 success, 2 usage error, 1 any other failure, with
 * one clear line on stderr (the stack trace only with --verbose).
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0",
        description = "Kiln: a compute-graph compiler for the JVM.",
        subcommands = {DemoCommand.class})
public final class KilnCli implements Runnable {
    @Option(names = "--verbose", description = "print stack traces of errors", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        KilnCli root = new KilnCli();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out).setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean verbose = root.verbose || java.util.Arrays.asList(args).contains("--verbose");
            if (verbose) ex.printStackTrace(err);
            String kind = ex instanceof KilnException ? "" : ex.getClass().getSimpleName() + ": ";
            err.println("kiln: error: " + kind + ex.getMessage());
            err.flush();
            return 1;
        });
        return cl.execute(args);
    }
}
