package dev.kiln.runtime.cli;

import dev.kiln.ir.KilnException;
import dev.kiln.runtime.Backends;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * The {@code kiln} command. Exit codes: 0 success, 2 usage error, 1 any other failure, with
 * the error on stderr: one summary line, then any details indented under it (the stack trace only with --verbose).
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln " + Kiln.VERSION,
        description = "Kiln: a compute-graph compiler for the JVM.",
        subcommands = {CompileCommand.class, RunCommand.class, InspectCommand.class, BenchCommand.class, DemoCommand.class,
                DoctorCommand.class, OpsCommand.class})
public final class KilnCli implements Callable<Integer> {
    static final int OK = 0, FAILURE = 1, USAGE = 2;

    @Spec CommandSpec spec;

    @Option(names = "--verbose", description = "print stack traces of errors", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    private final Backends backends;

    KilnCli(Backends backends) { this.backends = backends; }

    @Override public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) { return execute(args, out, err, Backends.discovered()); }

    /** As {@link #execute(String[], PrintWriter, PrintWriter)}, compiling for this set of backends. */
    static int execute(String[] args, PrintWriter out, PrintWriter err, Backends backends) {
        KilnCli root = new KilnCli(backends);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(root);
        cl.setOut(out).setErr(err);
        cl.setParameterExceptionHandler((ex, arguments) -> {
            if (verbose) ex.printStackTrace(err);
            String command = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println(command + ": usage error: " + firstLine(ex.getMessage()) + " (see '" + command + " --help')");
            err.flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (verbose) ex.printStackTrace(err);
            err.println("kiln: error: " + describe(ex));
            err.flush();
            return FAILURE;
        });
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            // Errors (e.g. a native library failing to link) escape picocli's handlers; they too get one line.
            if (verbose) t.printStackTrace(err);
            err.println("kiln: error: " + describe(t));
            err.flush();
            return FAILURE;
        } finally {
            out.flush();
        }
    }

    /**
     * The error as the user sees it, whole: the first line is the summary, every further line (the
     * ops a model needs, a build log) is indented under it. Only the stack trace is for --verbose.
     */
    static String describe(Throwable t) {
        String msg = t.getMessage();
        String text = t instanceof KilnException || t instanceof IllegalArgumentException && msg != null ? msg
                : t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
        return indentContinuations(text == null ? "" : text.strip());
    }

    private static String indentContinuations(String s) {
        StringBuilder b = new StringBuilder();
        s.lines().forEach(l -> {
            if (!b.isEmpty()) b.append('\n').append(l.startsWith("  ") ? "" : "  ");
            b.append(l);
        });
        return b.toString();
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " ...";
    }

    /** A target of the named backend, or a usage error naming the backends this build has. */
    Target target(CommandSpec command, String backend) {
        if (backends.find(backend).isEmpty())
            throw new ParameterException(command.commandLine(), "unknown backend '" + backend + "'; this build has " + backends.names());
        return backends.target(backend);
    }

    Backends backends() { return backends; }
}
