package dev.kiln.spark;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.runtime.Target;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** Scoring in Spark local[2] against the same rows run through CompiledModel directly; one session for the class. */
class KilnInferenceTest {
    static final int ROWS = 1000, PARTITIONS = 8, DYN_ELEMENTS = 3 * 8 * 8, CNN_ELEMENTS = 3 * 24 * 24, CNN_BATCH = 16;

    @TempDir static Path dir;
    static SparkSession spark;
    static Path dynamic, cnn;

    @BeforeAll static void start() {
        spark = SparkSessions.local(2);
        dynamic = SparkSessions.dynamicArtifact(dir);
        cnn = SparkSessions.fixedCnnArtifact(dir, CNN_BATCH);
    }

    @AfterAll static void stop() { if (spark != null) spark.stop(); }

    static final StructType FLOATS = new StructType().add("id", DataTypes.LongType, false)
            .add("x", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    static final StructType BYTES = new StructType().add("id", DataTypes.LongType, false).add("x", DataTypes.BinaryType, true);

    /** ROWS rows over PARTITIONS partitions, column x built from the id by {@code tensor}. */
    static Dataset<Row> rows(StructType schema, Function<Long, Object> tensor) {
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < ROWS; id++) rows.add(RowFactory.create(id, tensor.apply(id)));
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, PARTITIONS), schema);
    }

    static Object floats(long id, int n) { return SparkSessions.rowTensor(id, n); }

    static byte[] f32le(float[] xs) {
        ByteBuffer b = ByteBuffer.allocate(4 * xs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) b.putFloat(x);
        return b.array();
    }

    /**
     * What each row's output must be: the partitions as Spark holds them, cut into batches of {@code batch} rows
     * (the last one zero-padded), each batch run through CompiledModel directly.
     */
    static List<float[]> expected(Path artifact, Dataset<Row> df, int batch, int elements) {
        List<float[]> out = new ArrayList<>();
        try (CompiledModel m = Kiln.load(artifact, Target.cpu().withOption("threads", "1"))) {
            for (List<Row> part : df.javaRDD().glom().collect()) {
                for (int from = 0; from < part.size(); from += batch) {
                    float[] data = new float[batch * elements];
                    int n = Math.min(batch, part.size() - from);
                    for (int r = 0; r < n; r++)
                        System.arraycopy(SparkSessions.rowTensor(part.get(from + r).getLong(0), elements), 0, data, r * elements, elements);
                    int[] dims = artifactShape(m).dims();
                    HostTensor y = m.run(HostTensor.of(ExecutorModels.batchShape(batch, Arrays.copyOfRange(dims, 1, dims.length)), data));
                    int e = y.size() / batch;
                    for (int r = 0; r < n; r++) out.add(Arrays.copyOfRange(y.data(), r * e, (r + 1) * e));
                }
            }
        }
        return out;
    }

    static dev.kiln.ir.Shape artifactShape(CompiledModel m) { return m.signature().inputs().getFirst().type().shape(); }

    static void assertScoredLike(List<float[]> expected, List<Row> got, String column) {
        assertEquals(ROWS, got.size(), "row count");
        for (int i = 0; i < ROWS; i++) {
            Row r = got.get(i);
            assertEquals(i, r.getLong(0), "row order");
            assertSameOutput(expected.get(i), toFloats(r.getList(r.fieldIndex(column))), i);
        }
    }

    /**
     * The same batch through the same kernels, so equal up to the order of float additions inside a Vector API
     * reduction, which the API leaves open: interpreted and C2-compiled code may add lanes in another order (seen
     * once: −0.32168514 vs −0.32168505). Anything else (a wrong row, a shifted slot, padding leaking in) is far off.
     */
    static void assertSameOutput(float[] want, float[] got, int row) {
        assertEquals(want.length, got.length, "row " + row + " output length");
        for (int j = 0; j < want.length; j++)
            assertEquals(want[j], got[j], 1e-5 * (1 + Math.abs(want[j])), "row " + row + " output[" + j + "]");
    }

    static float[] toFloats(List<Float> xs) {
        float[] f = new float[xs.size()];
        for (int i = 0; i < f.length; i++) f[i] = xs.get(i);
        return f;
    }

    @Test void scoresEveryRowAsCompiledModelDoesAndLoadsOncePerJvm() {
        Dataset<Row> df = rows(FLOATS, id -> floats(id, DYN_ELEMENTS));
        KilnInference k = KilnInference.fromPath(spark, dynamic).input("x", "x").output("y", "y").batchSize(32);
        List<Row> got = k.score(df).collectAsList();
        assertScoredLike(expected(dynamic, df, 32, DYN_ELEMENTS), got, "y");
        ScoringMetrics.Snapshot m = k.metrics().snapshot();
        assertEquals(ROWS, m.rows());
        assertEquals(PARTITIONS * 4, m.batches(), "125 rows per partition: 3 full batches of 32 and one padded");
        assertEquals(1, m.loads(), "two concurrent tasks per wave, eight tasks, one load");

        // a second job (new plan, same artifact bytes) reuses this JVM's model: no load, no compilation
        int compiled = ExecutorModels.models().stream().mapToInt(CompiledModel::compilations).sum();
        KilnInference again = KilnInference.fromPath(spark, dynamic).batchSize(32);
        assertEquals(ROWS, again.score(df).count());
        assertEquals(0, again.metrics().snapshot().loads());
        assertEquals(compiled, ExecutorModels.models().stream().mapToInt(CompiledModel::compilations).sum());
    }

    @Test void fixedShapeArtifactPadsEachPartitionsLastBatchFromBinaryColumns() {
        Dataset<Row> df = rows(BYTES, id -> f32le(SparkSessions.rowTensor(id, CNN_ELEMENTS)));
        KilnInference k = KilnInference.ship(spark, cnn).output(sigOutput(cnn), "logits");
        List<Row> got = k.score(df).collectAsList();
        assertScoredLike(expected(cnn, df, CNN_BATCH, CNN_ELEMENTS), got, "logits");
        assertEquals(10, got.getFirst().getList(2).size());
        assertEquals(PARTITIONS * 8, k.metrics().snapshot().batches(), "125 rows: 7 batches of 16 and one of 13 padded to 16");
    }

    static String sigOutput(Path artifact) {
        return dev.kiln.runtime.Artifact.read(artifact).signature().outputNames().getFirst();
    }

    @Test void fixedShapeArtifactRefusesAnotherBatchSize() {
        Dataset<Row> df = rows(BYTES, id -> new byte[0]);
        var e = assertThrows(KilnException.class, () -> KilnInference.fromPath(spark, cnn).batchSize(32).score(df));
        assertTrue(e.getMessage().contains("scores 16 rows per call, not 32"), e.getMessage());
    }

    @Test void tamperedArtifactIsRefusedWithKilnsChecksumMessage() throws Exception {
        Path bad = dir.resolve("tampered.kiln");
        byte[] bytes = Files.readAllBytes(dynamic);
        bytes[bytes.length / 2] ^= 1;
        Files.write(bad, bytes);
        var e = assertThrows(MalformedFileException.class, () -> KilnInference.fromPath(spark, bad));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        var missing = assertThrows(KilnException.class, () -> KilnInference.fromPath(spark, dir.resolve("nowhere.kiln")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }

    @Test void artifactChangedAfterPlanningFailsTheJob() throws Exception {
        Path file = dir.resolve("changes.kiln");
        Files.copy(dynamic, file);
        Dataset<Row> scored = KilnInference.fromPath(spark, file).score(rows(FLOATS, id -> floats(id, DYN_ELEMENTS)));
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        String msg = messages(assertThrows(Exception.class, scored::collectAsList));
        assertTrue(msg.contains("the file changed after score() read it"), msg);
    }

    @Test void badRowFailsTheJobNamingRowColumnAndKey() {
        Dataset<Row> df = rows(FLOATS, id -> floats(id, id == 517 ? 10 : DYN_ELEMENTS));
        Dataset<Row> scored = KilnInference.fromPath(spark, dynamic).keyColumn("id").score(df);
        String msg = messages(assertThrows(Exception.class, scored::collectAsList));
        assertTrue(msg.contains("column 'x' (input 'x', [3, 8, 8] per row) has 10 values, expected 192"), msg);
        assertTrue(msg.contains("(key 517)"), msg);
        assertTrue(msg.contains("of partition 4"), msg);
    }

    @Test void errorColumnKeepsBadRowsInPlace() {
        Dataset<Row> df = rows(FLOATS, id -> id == 3 ? null : floats(id, id == 900 ? 191 : DYN_ELEMENTS));
        KilnInference k = KilnInference.fromPath(spark, dynamic).errorColumn("error").batchSize(16);
        List<Row> got = k.score(df).collectAsList();
        assertEquals(ROWS, got.size());
        List<float[]> want = expected(dynamic, df.filter("id != 3 and id != 900"), 16, DYN_ELEMENTS);
        int w = 0;
        for (int i = 0; i < ROWS; i++) {
            Row r = got.get(i);
            assertEquals(i, r.getLong(0));
            if (i == 3 || i == 900) {
                assertTrue(r.isNullAt(2), "no output for a bad row");
                assertTrue(r.getString(3).contains(i == 3 ? "column 'x' (input 'x') is null" : "has 191 values, expected 192"), r.getString(3));
            } else {
                assertTrue(r.isNullAt(3));
                assertSameOutput(want.get(w++), toFloats(r.getList(2)), i);
            }
        }
        assertEquals(ROWS - 2, w);
        assertEquals(ROWS - 2, k.metrics().snapshot().rows());
        assertEquals(2, k.metrics().snapshot().badRows());
        assertEquals(ROWS - 2, want.size());
    }

    @Test void refusesColumnsOfAnotherType() {
        Dataset<Row> df = spark.range(3).toDF("x");
        var e = assertThrows(KilnException.class, () -> KilnInference.fromPath(spark, dynamic).score(df));
        assertTrue(e.getMessage().contains("column 'x' is bigint; a model input column must be array<float>"), e.getMessage());
    }

    static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) sb.append(c).append('\n');
        return sb.toString();
    }
}
