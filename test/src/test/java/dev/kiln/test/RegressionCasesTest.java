package dev.kiln.test;

import dev.kiln.passes.Passes;
import dev.kiln.runtime.Target;
import dev.kiln.test.kit.Case;
import dev.kiln.test.kit.Failure;
import dev.kiln.test.kit.Property;
import dev.kiln.test.kit.Targets;
import dev.kiln.test.kit.Tolerance;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays every shrunk case kept under {@code src/test/resources/regressions/} (the {@code .kcase}
 * files the property kit writes on a failure) on every backend, after the default pipeline and
 * with no passes, against the reference. {@code -Dkiln.case=<file>} replays that one file instead.
 *
 * <p>Cases under {@code regressions/open/} are bugs found but not fixed yet. Such a file names
 * where it fails in a header line {@code // known failure on: cpu/default passes, opencl/default passes};
 * there it is reported as skipped while it still fails, and fails the test once it passes (then
 * the line goes, and the file moves to {@code regressions/}). Everywhere else it must pass.
 */
class RegressionCasesTest {
    @TestFactory
    Stream<DynamicTest> everyKeptCaseOnEveryBackend() {
        return Stream.concat(files("/regressions").stream().map(f -> replays(f, false)), files("/regressions/open").stream().map(f -> replays(f, true)))
                .flatMap(s -> s);
    }

    static final String KNOWN = "// known failure on:";

    private static Stream<DynamicTest> replays(Path file, boolean open) {
        return Targets.backends().flatMap(backend -> Stream.of("default passes", "no passes").map(pipeline ->
                DynamicTest.dynamicTest((open ? "open/" : "") + file.getFileName() + " [" + backend + ", " + pipeline + "]", () -> {
                    Target target = Targets.require(backend);
                    String text = Files.readString(file);
                    Case c = Case.parse(text, file.toString());
                    List<String> passes = pipeline.equals("default passes") ? Passes.DEFAULT : List.of();
                    Failure f = Property.evaluate(k -> Tolerance.expect(k).check(Targets.run(k, target, passes), backend, 1), c);
                    boolean known = open && text.lines().filter(l -> l.startsWith(KNOWN))
                            .anyMatch(l -> List.of(l.substring(KNOWN.length()).split(",")).stream().map(String::strip).toList().contains(backend + "/" + pipeline));
                    if (known && f != null)
                        Assumptions.abort("known open bug, still failing: " + f.summary() + "\n" + text.lines().takeWhile(l -> l.startsWith("//")).reduce("", (a, l) -> a + l + "\n"));
                    if (known) fail(file + " passes now on " + backend + " (" + pipeline + "): take it off the '" + KNOWN + "' line; once that is empty, move the file to regressions/");
                    if (f != null) fail(file + " fails on " + backend + " (" + pipeline + "): " + f.summary() + "\n" + f.details());
                })));
    }

    static List<Path> files(String resource) {
        String one = System.getProperty("kiln.case");
        if (one != null && !one.isBlank()) return resource.equals("/regressions") ? List.of(Path.of(one)) : List.of();
        URL dir = RegressionCasesTest.class.getResource(resource);
        if (dir == null) return List.of();
        try (Stream<Path> s = Files.list(Path.of(dir.toURI()))) {
            return s.filter(p -> p.toString().endsWith(".kcase")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
