package dev.kiln.runtime.cli;

import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.ir.Backend;
import dev.kiln.ir.BackendUnavailableException;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.runtime.Backends;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the CLI through its picocli entry point and captures what it prints. */
final class Cli {
    private Cli() {}

    record Result(int exitCode, String out, String err) {
        /** The exit code is as expected; the message shows both streams when it is not. */
        Result expect(int code) {
            assertEquals(code, exitCode, () -> "exit code; stdout:\n" + out + "\nstderr:\n" + err);
            return this;
        }

        /** stderr without the JDK's incubator warning. */
        String errorLines() { return err.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).reduce("", (a, b) -> a + b + "\n"); }
    }

    static Result run(String... args) { return run(Backends.discovered(), args); }

    static Result run(Backends backends, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = KilnCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), backends);
        return new Result(code, out.toString(), err.toString());
    }

    static Path resource(String name) {
        try {
            return Path.of(Cli.class.getResource("/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("missing test resource " + name, e);
        }
    }

    /** The CPU backend and an OpenCL backend that finds no platform, as on a machine without OpenCL. */
    static Backends withoutOpenCl() {
        Backend missing = new Backend() {
            @Override public String name() { return "opencl"; }
            @Override public boolean isAvailable() { return false; }
            @Override public Executable compile(Graph g, Map<String, String> options) {
                throw new BackendUnavailableException("OpenCL: no platform found (simulated)");
            }
        };
        return Backends.of(new CpuBackend(), missing);
    }
}
