package dev.kiln.spark;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import org.apache.spark.SparkFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models of one JVM (an executor, or the driver in local mode), keyed by the artifact's SHA-256 and the
 * target: the first task that needs a model reads, verifies and compiles it, concurrent tasks wait for that one
 * load, and every later task of every job reuses it (a {@link CompiledModel} is thread-safe and keeps scratch per
 * call). Models stay for the JVM's life: an executor scores with a handful of artifacts, not thousands.
 */
final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

    /** A verified, compiled model and what its load cost. */
    record Loaded(CompiledModel model, long loadMillis) {}

    private record Key(String sha256, String backend, Map<String, String> options, int batchSize) {}

    /** A file's identity on disk: reading and hashing it again is skipped while it stays the same. */
    private record FileStamp(long size, long modifiedMillis, String sha256) {}

    private static final ConcurrentHashMap<Key, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Path, FileStamp> HASHED = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() {}

    /** Artifact loads (read + verify + compile) this JVM has done. */
    static int loads() { return LOADS.get(); }

    /**
     * The plan's model, loaded now if this JVM has not yet. {@code loadedNow} is set to the load's time when this
     * call did it, so exactly one task per JVM reports it.
     */
    static Loaded get(ScoringPlan plan, long[] loadedNow) {
        Path file = resolve(plan.artifact());
        // cheap check on every task: a file changed since the driver planned the job is refused, not scored
        String sha = sha256Of(file, plan);
        Key key = new Key(sha, plan.backend(), plan.options(), plan.batchSize());
        Loaded m = MODELS.get(key);
        if (m != null) return m;
        return MODELS.computeIfAbsent(key, k -> {
            Loaded l = load(file, plan);
            loadedNow[0] = l.loadMillis();
            return l;
        });
    }

    private static Loaded load(Path file, ScoringPlan plan) {
        long t0 = System.nanoTime();
        byte[] bytes = read(file, plan);
        // the same checks as the driver's read: the container's checksum, the graph, the weights, the signature
        Artifact a = Artifact.fromBytes(bytes, plan.artifact().toString());
        Target target = Target.named(plan.backend()).withOptions(plan.options());
        CompiledModel model = Kiln.load(a, target);
        try {
            if (plan.dynamicBatch()) {
                // compile the batch size every full and padded batch runs at, once, here rather than in the first batch
                Shape[] shapes = plan.inputs().stream().map(b -> batchShape(plan.batchSize(), b.rowShape())).toArray(Shape[]::new);
                model.specialise(shapes);
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        LOADS.incrementAndGet();
        LOG.info("Kiln: loaded {} (sha256 {}) for {} {} at batch {} in {} ms; this JVM keeps it for every later task",
                plan.artifact(), plan.sha256().substring(0, 12), plan.backend(), plan.options(), plan.batchSize(), millis);
        return new Loaded(model, millis);
    }

    static Shape batchShape(int batch, int[] rowShape) {
        int[] dims = new int[rowShape.length + 1];
        dims[0] = batch;
        System.arraycopy(rowShape, 0, dims, 1, rowShape.length);
        return Shape.of(dims);
    }

    private static Path resolve(ScoringPlan.ArtifactLocation loc) {
        return loc.shipped() ? Path.of(SparkFiles.get(loc.path())) : Path.of(loc.path());
    }

    private static String sha256Of(Path file, ScoringPlan plan) {
        long size, modified;
        try {
            size = Files.size(file);
            modified = Files.getLastModifiedTime(file).toMillis();
        } catch (NoSuchFileException e) {
            throw new KilnException(plan.artifact() + ": no such file on this executor (" + file + "); put the artifact on storage every "
                    + "node sees, or ship it with KilnInference.ship");
        } catch (IOException e) {
            throw new KilnException(plan.artifact() + ": cannot read on this executor: " + e, e);
        }
        FileStamp seen = HASHED.get(file);
        String sha = seen != null && seen.size() == size && seen.modifiedMillis() == modified ? seen.sha256() : hex(sha256(read(file, plan)));
        HASHED.put(file, new FileStamp(size, modified, sha));
        if (!sha.equals(plan.sha256()))
            throw new KilnException(plan.artifact() + " on this executor (" + file + ") has SHA-256 " + sha.substring(0, 16) + "... but the driver "
                    + "planned the job with " + plan.sha256().substring(0, 16) + "...: the file changed after score() read it, or differs "
                    + "between nodes; refusing to score with it");
        return sha;
    }

    private static byte[] read(Path file, ScoringPlan plan) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new KilnException(plan.artifact() + ": cannot read on this executor (" + file + "): " + e, e);
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static String hex(byte[] b) { return HexFormat.of().formatHex(b); }

    /** For tests: the models this JVM holds. */
    static List<CompiledModel> models() { return MODELS.values().stream().map(Loaded::model).toList(); }
}
