package dev.kiln.test.kit;

import dev.kiln.ir.IrPrinter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The report of a failed property: the seed, the failure, the shrunk graph as text IR, its inputs
 * and constants, both outputs, and one command that replays it. The shrunk case is also written
 * as a {@code .kcase} file under {@code target/kiln-failures/}; copied into
 * {@code src/test/resources/regressions/} it becomes a regression test on every backend.
 */
public final class FailureReport {
    private FailureReport() {}

    public static final Path DIR = Path.of("target", "kiln-failures");

    /** The one-line command that reruns a property on one seed (from the repository root). */
    public static String replayCommand(String replayArgs, long seed) {
        return "mvn -pl test -am test " + replayArgs + " -Dkiln.seed=" + seed + " -Dsurefire.failIfNoSpecifiedTests=false";
    }

    public static String of(String title, String replayArgs, long seed, Case original, Failure first, Shrinker.Result r) {
        Case c = r.shrunk();
        String replay = replayCommand(replayArgs, seed);
        Path file = DIR.resolve(slug(title) + "-seed" + seed + ".kcase");
        String header = "shrunk from seed " + seed + " of property '" + title + "'\nfailure: " + r.failure().summary()
                + "\nreplay: " + replay;
        String written;
        try {
            Files.createDirectories(DIR);
            Files.writeString(file, c.toText(header));
            written = file.toAbsolutePath().toString();
        } catch (IOException | RuntimeException e) {
            written = "(could not be written: " + e + ")";
        }
        StringBuilder b = new StringBuilder();
        b.append("Property '").append(title).append("' failed at seed ").append(seed).append('\n');
        b.append("  failure: ").append(r.failure().summary()).append('\n');
        if (!first.summary().equals(r.failure().summary())) b.append("  before shrinking: ").append(first.summary()).append('\n');
        b.append(String.format("  shrunk in %d steps (%d evaluations, %.1f s) from %d nodes to %d%n",
                r.steps(), r.evaluations(), r.seconds(), original.nodeCount(), c.nodeCount()));
        b.append("--- shrunk graph\n").append(IrPrinter.print(c.graph()));
        b.append("--- inputs and constants\n");
        DataGen.tensors(c).forEach((name, t) -> b.append("  %").append(Case.name(name)).append(": ").append(Tolerance.show(t)).append('\n'));
        b.append("--- outputs\n").append(r.failure().details());
        if (!r.failure().details().endsWith("\n")) b.append('\n');
        b.append("--- replay\n  ").append(replay).append('\n');
        b.append("  shrunk case: ").append(written).append('\n');
        b.append("  replay the shrunk case alone: mvn -pl test -am test -Dtest='RegressionCasesTest' -Dkiln.case=<that file> -Dsurefire.failIfNoSpecifiedTests=false\n");
        b.append("  keep it as a regression test: copy it into test/src/test/resources/regressions/");
        return b.toString();
    }

    static String slug(String title) {
        return title.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }
}
