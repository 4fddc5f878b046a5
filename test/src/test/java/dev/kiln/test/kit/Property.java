package dev.kiln.test.kit;

import dev.kiln.test.kit.GraphGen.Generator;

import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs a property over many generated cases: try i uses seed firstSeed + i, so every run of the
 * suite sees the same cases and a failure is replayed by its seed alone. On the first failure the
 * case is shrunk ({@link Shrinker}) and reported ({@link FailureReport}) with a command that
 * replays it. System properties:
 * <ul>
 *   <li>{@code kiln.tries}: cases per property (default given by the caller: 200, fewer for OpenCL)</li>
 *   <li>{@code kiln.seed}: run only this seed (what the replay command sets)</li>
 *   <li>{@code kiln.firstSeed}: start there instead of 0 (long runs on fresh cases)</li>
 *   <li>{@code kiln.keepGoing}: after a failure, go on and report every distinct failure at the end</li>
 * </ul>
 * Each run appends one line of statistics to {@code target/kiln-properties.log}.
 */
public final class Property {
    /** A property of one case: null when it holds, else why not. May throw {@link Discard}. */
    public interface Check { Failure check(Case c) throws Exception; }

    private Property() {}

    public static final Path LOG = Path.of("target", "kiln-properties.log");

    /** Tries the check on generated cases; fails with the report of the first (shrunk) failure. */
    public static void check(String title, String replayArgs, int tries, Generator gen, Check check) {
        Long only = Long.getLong("kiln.seed");
        long first = Long.getLong("kiln.firstSeed", 0L);
        boolean keepGoing = Boolean.getBoolean("kiln.keepGoing");
        int tried = 0, discarded = 0, refused = 0;
        Map<String, Integer> refusals = new TreeMap<>();
        List<String> reports = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        long t0 = System.nanoTime();
        Tolerance.usage();
        for (long i = 0; i < (only != null ? 1 : tries); i++) {
            long seed = only != null ? only : first + i;
            Choices ch = Choices.random(seed);
            Case c;
            try {
                c = gen.generate(ch);
            } catch (RuntimeException e) {
                throw new AssertionError(title + ": the generator failed at seed " + seed + " (a bug in the property kit)", e);
            }
            tried++;
            Failure f;
            try {
                f = check.check(c);
            } catch (Discard d) {
                discarded++;
                if (d.isRefusal()) {
                    refused++;
                    refusals.merge(d.getMessage().substring(Discard.REFUSED.length()).replaceAll("%[^ :]+|\\([^)]*\\)|[0-9]+", "").strip(), 1, Integer::sum);
                }
                continue;
            } catch (TestAbortedException e) {
                throw e;                                  // a skip (no OpenCL here) is not a failure to shrink
            } catch (Exception | AssertionError | LinkageError | StackOverflowError e) {
                f = Failure.of(e);
            }
            if (f == null) continue;
            if (keepGoing && !keys.add(f.key() + f.summary().replaceAll("-?[0-9][0-9.]*(E-?[0-9]+)?", "#"))) continue;   // one report per kind
            Tolerance.Snapshot stats = Tolerance.snapshot();        // keep the shrinker's comparisons out of the statistics
            Shrinker.Result r = Shrinker.shrink(gen, ch.sequence(), c, f, check);
            Tolerance.rollback(stats);
            reports.add(FailureReport.of(title, replayArgs, seed, c, f, r));
            System.err.println(reports.getLast());
            if (!keepGoing || reports.size() >= 10) break;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String stats = String.format("%s: %d tried (seeds %s), %d discarded (%d of them refused by the backend), %d failed, %.1f s (%.0f ms/try)",
                title, tried, only != null ? "" + only : first + ".." + (first + tries - 1), discarded, refused, reports.size(), seconds,
                1000 * seconds / Math.max(1, tried)) + Tolerance.usage() + (refusals.isEmpty() ? "" : "; refusals: " + refusals);
        System.out.println("[kiln-property] " + stats);
        log(stats);
        if (!reports.isEmpty()) throw new AssertionError(String.join("\n\n", reports));
        if (tried >= 20 && discarded * 2 > tried)
            throw new AssertionError(title + ": " + discarded + " of " + tried + " cases were discarded; the generator no longer makes useful cases");
    }

    /** Runs the check on one case: null when it holds or the case is discarded, else the failure. */
    public static Failure evaluate(Check check, Case c) {
        try {
            return check.check(c);
        } catch (Discard d) {
            return null;
        } catch (TestAbortedException e) {
            throw e;
        } catch (Exception | AssertionError | LinkageError | StackOverflowError e) {
            return Failure.of(e);
        }
    }

    static void log(String line) {
        try {
            Files.createDirectories(LOG.getParent());
            Files.writeString(LOG, java.time.LocalDateTime.now().withNano(0) + " " + line + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append to " + LOG + ": " + e);
        }
    }
}
