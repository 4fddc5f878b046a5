package dev.kiln.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * Spark accumulators for one {@link KilnInference}: the executors add, the driver reads after an action.
 * Like every accumulator updated inside a transformation, a retried or re-run task adds again, so after two
 * actions on the same scored Dataset the row count is doubled: read them after the one action you measure.
 */
public record ScoringMetrics(LongAccumulator rows, LongAccumulator badRows, LongAccumulator batches,
                             LongAccumulator kilnNanos, LongAccumulator loads, LongAccumulator loadMillis) implements Serializable {

    static ScoringMetrics register(SparkContext sc) {
        return new ScoringMetrics(sc.longAccumulator("kiln.rows"), sc.longAccumulator("kiln.badRows"),
                sc.longAccumulator("kiln.batches"), sc.longAccumulator("kiln.nanosInKiln"),
                sc.longAccumulator("kiln.modelLoads"), sc.longAccumulator("kiln.loadMillis"));
    }

    /** The values now, as plain numbers. */
    public Snapshot snapshot() {
        return new Snapshot(rows.value(), badRows.value(), batches.value(), kilnNanos.value() / 1e6, loads.value(), loadMillis.value());
    }

    /**
     * @param rows        rows scored (bad rows not counted)
     * @param badRows     rows sent to the error column
     * @param batches     model calls
     * @param kilnMillis  wall time inside {@code CompiledModel.run}, summed over tasks
     * @param loads       artifact loads + compilations (one per executor JVM that scored, per artifact)
     * @param loadMillis  their time, summed over executors
     */
    public record Snapshot(long rows, long badRows, long batches, double kilnMillis, long loads, long loadMillis) {
        @Override public String toString() {
            return String.format("%d rows (%d bad) in %d batches, %.1f ms in Kiln; %d model load(s), %d ms", rows, badRows, batches,
                    kilnMillis, loads, loadMillis);
        }
    }
}
