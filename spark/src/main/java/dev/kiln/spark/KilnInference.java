package dev.kiln.spark;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.Signature;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Batch inference with a compiled Kiln artifact on a Spark Dataset:
 * <pre>
 * KilnInference k = KilnInference.ship(spark, Path.of("cnn.kiln"))   // or fromPath on shared storage
 *         .input("x", "pixels").output("y", "logits").batchSize(64);
 * Dataset&lt;Row&gt; scored = k.score(images);                          // images + a "logits" column
 * </pre>
 * The driver reads and verifies the artifact once (checksum, graph, weights, signature) to plan the columns and
 * remembers its SHA-256; each executor JVM then loads and compiles it once, on its first task, and shares it
 * between its concurrent tasks (see {@link ExecutorModels}). Input columns hold one row's tensor, without the batch
 * axis, row-major, as {@code array<float>}, {@code array<double>} or {@code binary} (little-endian float32, NumPy's
 * {@code tobytes()}); each output becomes an {@code array<float>} column. Row order and count are kept.
 */
public final class KilnInference {
    /** Rows per model call when the artifact compiles any batch size (ONNX with a dynamic batch axis). */
    public static final int DEFAULT_BATCH = 64;

    private final Path file;
    private final ScoringPlan.ArtifactLocation location;
    private final String sha256;
    private final Artifact artifact;
    private final ScoringMetrics metrics;
    private final Map<String, String> inputColumns = new LinkedHashMap<>(), outputColumns = new LinkedHashMap<>();
    private int batchSize;
    private String errorColumn, keyColumn;
    private String backend;
    private final Map<String, String> options = new TreeMap<>();

    private KilnInference(SparkSession spark, Path file, ScoringPlan.ArtifactLocation location) {
        this.file = file;
        this.location = location;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new KilnException(file + ": no such file");
        } catch (IOException e) {
            throw new KilnException(file + ": cannot read: " + e, e);
        }
        this.artifact = Artifact.fromBytes(bytes, file.toString());
        this.sha256 = ExecutorModels.hex(ExecutorModels.sha256(bytes));
        this.metrics = ScoringMetrics.register(spark.sparkContext());
        this.backend = artifact.target();
        // Spark already runs one task per executor core: a model call that spread over every core as well would
        // oversubscribe them, so the CPU backend gets one thread per call unless told otherwise
        if (backend.equals("cpu")) options.put("threads", "1");
    }

    /** An artifact at a path every executor sees (shared or distributed storage mounted at the same place, or local mode). */
    public static KilnInference fromPath(SparkSession spark, Path artifact) {
        return new KilnInference(spark, artifact, new ScoringPlan.ArtifactLocation(artifact.toAbsolutePath().toString(), false));
    }

    /**
     * An artifact on the driver's disk, sent to every executor with {@code SparkContext.addFile} (each executor
     * fetches it once, not once per task). Spark refuses a second file of the same name with other content.
     */
    public static KilnInference ship(SparkSession spark, Path artifact) {
        KilnInference k = new KilnInference(spark, artifact, new ScoringPlan.ArtifactLocation(artifact.getFileName().toString(), true));
        spark.sparkContext().addFile(artifact.toAbsolutePath().toString());
        return k;
    }

    /** Feeds model input {@code input} from {@code column}. A model with one input defaults to the column of its name. */
    public KilnInference input(String input, String column) {
        if (!artifact.signature().inputNames().contains(input))
            throw new KilnException(file + ": the model has no input '" + input + "'; its inputs are " + artifact.signature().inputNames());
        inputColumns.put(input, column);
        return this;
    }

    /** Writes model output {@code output} to a new column. With no output named, every output gets a column of its own name. */
    public KilnInference output(String output, String column) {
        if (!artifact.signature().outputNames().contains(output))
            throw new KilnException(file + ": the model has no output '" + output + "'; its outputs are " + artifact.signature().outputNames());
        outputColumns.put(output, column);
        return this;
    }

    /** Rows per model call (default {@value #DEFAULT_BATCH}; an artifact with fixed shapes allows only its own batch). */
    public KilnInference batchSize(int rows) {
        if (rows < 1) throw new KilnException("batch size must be at least 1, got " + rows);
        this.batchSize = rows;
        return this;
    }

    /** Keeps a bad row (null or wrong-sized tensor) with null outputs and its message in this string column, instead of failing the job. */
    public KilnInference errorColumn(String column) { this.errorColumn = column; return this; }

    /** Names rows in error messages by this column's value as well as their partition and position. */
    public KilnInference keyColumn(String column) { this.keyColumn = column; return this; }

    /** A backend option for the executors' compilation (e.g. threads); the backend is the artifact's. */
    public KilnInference backendOption(String key, String value) { options.put(key, value); return this; }

    /** The accumulators this instance's scoring adds to. */
    public ScoringMetrics metrics() { return metrics; }

    /** The artifact's SHA-256 (hex), as the driver read it: executors refuse a file with other bytes. */
    public String sha256() { return sha256; }

    /** The Dataset with one column per model output appended (and the error column, if asked for). Lazy, like any transformation. */
    public Dataset<Row> score(Dataset<Row> df) {
        ScoringPlan plan = plan(df.schema());
        StructType out = df.schema();
        for (ScoringPlan.OutputBinding o : plan.outputs())
            out = out.add(new StructField(o.column(), DataTypes.createArrayType(DataTypes.FloatType, false), errorColumn != null, org.apache.spark.sql.types.Metadata.empty()));
        if (errorColumn != null) out = out.add(errorColumn, DataTypes.StringType, true);
        return df.mapPartitions(new PartitionScorer(plan), Encoders.row(out));
    }

    ScoringPlan plan(StructType schema) {
        Signature sig = artifact.signature();
        boolean dynamic = artifact.hasSourceModel();
        List<ScoringPlan.InputBinding> ins = new ArrayList<>();
        int fixedBatch = -1;
        for (Graph.Value v : sig.inputs()) {
            String column = inputColumns.getOrDefault(v.name(), sig.inputs().size() == 1 && inputColumns.isEmpty() ? v.name() : null);
            if (column == null)
                throw new KilnException(file + ": no column given for model input '" + v.name() + "' (inputs " + sig.inputNames() + "); use input(\"" + v.name() + "\", column)");
            if (v.type().dtype() != DType.F32)
                throw new KilnException(file + ": input '" + v.name() + "' is " + v.type() + "; Spark scoring feeds f32 inputs only");
            Shape s = v.type().shape();
            if (s.rank() < 1) throw new KilnException(file + ": input '" + v.name() + "' is a scalar " + v.type() + "; scoring needs a batch axis first");
            if (fixedBatch >= 0 && s.dim(0) != fixedBatch)
                throw new KilnException(file + ": inputs disagree on the batch axis (" + sig + "); the first axis of every input must be the batch");
            fixedBatch = s.dim(0);
            ins.add(new ScoringPlan.InputBinding(v.name(), column, columnIndex(schema, column), encoding(schema, column),
                    Arrays.copyOfRange(s.dims(), 1, s.rank())));
        }
        int batch = batchSize > 0 ? batchSize : dynamic ? DEFAULT_BATCH : fixedBatch;
        if (!dynamic && batch != fixedBatch)
            throw new KilnException(file + " has fixed shapes " + sig + ", so it scores " + fixedBatch + " rows per call, not " + batch
                    + "; compile it at batch " + batch + ", or from an ONNX model with a dynamic batch axis");
        List<ScoringPlan.OutputBinding> outs = new ArrayList<>();
        Map<String, String> chosen = outputColumns.isEmpty() ? identity(sig.outputNames()) : outputColumns;
        for (Graph.Value v : sig.outputs()) {
            if (!chosen.containsKey(v.name())) continue;
            Shape s = v.type().shape();
            if (s.rank() < 1 || s.dim(0) != fixedBatch)
                throw new KilnException(file + ": output '" + v.name() + "' is " + v.type() + ", whose first axis is not the inputs' batch axis ("
                        + fixedBatch + "), so it cannot be split into rows");
            String column = chosen.get(v.name());
            if (Arrays.asList(schema.fieldNames()).contains(column))
                throw new KilnException("output column '" + column + "' (model output '" + v.name() + "') already exists in the Dataset");
            outs.add(new ScoringPlan.OutputBinding(v.name(), column, (int) (s.size() / s.dim(0))));
        }
        int key = keyColumn == null ? -1 : columnIndex(schema, keyColumn);
        return new ScoringPlan(location, sha256, backend, Map.copyOf(options), List.copyOf(ins), List.copyOf(outs), batch, dynamic,
                errorColumn, key, metrics);
    }

    private static Map<String, String> identity(List<String> names) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : names) m.put(n, n);
        return m;
    }

    private static int columnIndex(StructType schema, String column) {
        List<String> names = Arrays.asList(schema.fieldNames());
        int i = names.indexOf(column);
        if (i < 0) throw new KilnException("no column '" + column + "' in the Dataset; it has " + names);
        return i;
    }

    private static ScoringPlan.Encoding encoding(StructType schema, String column) {
        DataType t = schema.apply(column).dataType();
        if (t instanceof ArrayType a && a.elementType() instanceof FloatType) return ScoringPlan.Encoding.FLOAT_ARRAY;
        if (t instanceof ArrayType a && a.elementType() instanceof DoubleType) return ScoringPlan.Encoding.DOUBLE_ARRAY;
        if (t instanceof BinaryType) return ScoringPlan.Encoding.F32_LE_BYTES;
        throw new KilnException("column '" + column + "' is " + t.simpleString() + "; a model input column must be array<float>, array<double> "
                + "or binary (little-endian float32)");
    }
}
