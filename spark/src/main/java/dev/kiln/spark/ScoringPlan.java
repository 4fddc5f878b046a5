package dev.kiln.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Everything an executor needs to score a partition, decided once on the driver and shipped with the task
 * (Java serialisation, so only plain values: no model, no Spark session). The model itself is not in here:
 * each executor JVM loads it once from {@code artifact}, see {@link ExecutorModels}.
 *
 * @param artifact      where executors find the {@code .kiln} file
 * @param sha256        hex SHA-256 of the whole file as the driver read it: executors refuse any other bytes
 * @param backend       the target backend ("cpu", "opencl")
 * @param options       that backend's options (e.g. threads=1)
 * @param inputs        model inputs fed from columns, in the model's input order
 * @param outputs       model outputs written to new columns
 * @param batchSize     rows per model call; the last batch of a partition is padded to it
 * @param dynamicBatch  whether the artifact compiles other batch sizes (else its inputs' first axis is the batch)
 * @param errorColumn   where a bad row's message goes (null: a bad row fails the task)
 * @param keyColumn     index of a column whose value names a row in errors (-1: the partition and row index)
 * @param metrics       accumulators the executors add to
 */
record ScoringPlan(ArtifactLocation artifact, String sha256, String backend, Map<String, String> options,
                   List<InputBinding> inputs, List<OutputBinding> outputs, int batchSize, boolean dynamicBatch,
                   String errorColumn, int keyColumn, ScoringMetrics metrics) implements Serializable {

    /** How a column holds one row's tensor. */
    enum Encoding {
        /** array&lt;float&gt;, row-major */
        FLOAT_ARRAY,
        /** array&lt;double&gt;, row-major, narrowed to f32 */
        DOUBLE_ARRAY,
        /** binary: little-endian IEEE f32, row-major (NumPy's {@code float32.tobytes()}) */
        F32_LE_BYTES
    }

    /**
     * One model input fed from a column.
     *
     * @param rowShape the input's shape without its batch axis, e.g. [3, 24, 24]
     */
    record InputBinding(String input, String column, int columnIndex, Encoding encoding, int[] rowShape) implements Serializable {
        int rowElements() {
            int n = 1;
            for (int d : rowShape) n *= d;
            return n;
        }

        String describeShape() { return java.util.Arrays.toString(rowShape); }
    }

    /** One model output written as an array&lt;float&gt; column of rowElements values per row. */
    record OutputBinding(String output, String column, int rowElements) implements Serializable {}

    /** Where an executor reads the artifact: a path every node sees, or a file shipped with {@code SparkContext.addFile}. */
    record ArtifactLocation(String path, boolean shipped) implements Serializable {
        @Override public String toString() { return shipped ? "shipped file '" + path + "'" : path; }
    }
}
