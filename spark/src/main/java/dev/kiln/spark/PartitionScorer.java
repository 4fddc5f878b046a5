package dev.kiln.spark;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.runtime.CompiledModel;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Scores one partition: reads up to {@code batchSize} rows, packs their tensors into one batch (the last batch
 * zero-padded to the full size, so one compiled batch size serves every call), runs the executor's shared model
 * and emits the rows in the order they came, each with its output columns appended. Lazy: at most one batch of
 * rows is held at a time, however big the partition.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private final ScoringPlan plan;

    PartitionScorer(ScoringPlan plan) { this.plan = plan; }

    @Override public Iterator<Row> call(Iterator<Row> rows) {
        long[] loadedNow = {-1};
        ExecutorModels.Loaded loaded = ExecutorModels.get(plan, loadedNow);
        if (loadedNow[0] >= 0) {
            plan.metrics().loads().add(1);
            plan.metrics().loadMillis().add(loadedNow[0]);
        }
        TaskContext tc = TaskContext.get();
        return new Batches(rows, loaded.model(), tc == null ? -1 : tc.partitionId());
    }

    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> in;
        private final CompiledModel model;
        private final int partition;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowIndex;

        Batches(Iterator<Row> in, CompiledModel model, int partition) {
            this.in = in;
            this.model = model;
            this.partition = partition;
        }

        @Override public boolean hasNext() {
            if (ready.isEmpty() && in.hasNext()) scoreNextBatch();
            return !ready.isEmpty();
        }

        @Override public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.poll();
        }

        private void scoreNextBatch() {
            int b = plan.batchSize();
            List<ScoringPlan.InputBinding> ins = plan.inputs();
            float[][] data = new float[ins.size()][];
            for (int i = 0; i < ins.size(); i++) data[i] = new float[b * ins.get(i).rowElements()];
            List<Row> batch = new ArrayList<>(b);
            // rows in arrival order; a bad row keeps its place with its error instead of a slot in the batch
            List<Object> slots = new ArrayList<>(b);
            while (batch.size() < b && in.hasNext()) {
                Row row = in.next();
                String error = null;
                for (int i = 0; i < ins.size() && error == null; i++)
                    error = copyInto(row, ins.get(i), data[i], batch.size());
                if (error == null) {
                    slots.add(batch.size());
                    batch.add(row);
                } else {
                    // an earlier input of this row may have been copied already: padding must stay zero
                    for (int i = 0; i < ins.size(); i++) {
                        int n = ins.get(i).rowElements();
                        Arrays.fill(data[i], batch.size() * n, (batch.size() + 1) * n, 0f);
                    }
                    error = "row " + describe(row) + ": " + error;
                    if (plan.errorColumn() == null) throw new KilnException(error + " (set KilnInference.errorColumn to keep such rows with their message)");
                    slots.add(new Bad(row, error));
                }
                rowIndex++;
            }
            Map<String, HostTensor> outs = batch.isEmpty() ? Map.of() : run(data);
            int good = 0;
            for (Object s : slots) {
                if (s instanceof Bad bad) ready.add(withOutputs(bad.row(), null, 0, bad.error()));
                else ready.add(withOutputs(batch.get(good), outs, good++, null));
            }
            plan.metrics().rows().add(batch.size());
            plan.metrics().badRows().add(slots.size() - batch.size());
        }

        private Map<String, HostTensor> run(float[][] data) {
            Map<String, HostTensor> feed = new HashMap<>();
            for (int i = 0; i < data.length; i++) {
                ScoringPlan.InputBinding in = plan.inputs().get(i);
                feed.put(in.input(), HostTensor.of(ExecutorModels.batchShape(plan.batchSize(), in.rowShape()), data[i]));
            }
            long t0 = System.nanoTime();
            Map<String, HostTensor> out = model.run(feed);
            plan.metrics().kilnNanos().add(System.nanoTime() - t0);
            plan.metrics().batches().add(1);
            return out;
        }

        private Row withOutputs(Row row, Map<String, HostTensor> outs, int slot, String error) {
            int n = row.size(), k = plan.outputs().size();
            Object[] values = new Object[n + k + (plan.errorColumn() == null ? 0 : 1)];
            for (int i = 0; i < n; i++) values[i] = row.get(i);
            for (int j = 0; j < k && outs != null; j++) {
                ScoringPlan.OutputBinding o = plan.outputs().get(j);
                int e = o.rowElements();
                values[n + j] = Arrays.copyOfRange(outs.get(o.output()).data(), slot * e, (slot + 1) * e);
            }
            if (plan.errorColumn() != null) values[n + k] = error;
            return RowFactory.create(values);
        }

        private String describe(Row row) {
            String where = "#" + rowIndex + " of partition " + partition;
            return plan.keyColumn() < 0 ? where : where + " (key " + row.get(plan.keyColumn()) + ")";
        }
    }

    /** A row refused before the model ran, with its message. */
    private record Bad(Row row, String error) {}

    /**
     * Copies the row's tensor for this input into slot {@code slot} of the batch; null when it fits, else the
     * problem, naming the column and input (the caller prefixes the row).
     */
    private static String copyInto(Row row, ScoringPlan.InputBinding in, float[] batch, int slot) {
        int n = in.rowElements(), at = slot * n;
        Object v = row.get(in.columnIndex());
        String col = "column '" + in.column() + "'";
        if (v == null) return col + " (input '" + in.input() + "') is null";
        switch (in.encoding()) {
            case FLOAT_ARRAY, DOUBLE_ARRAY -> {
                List<?> xs = row.getList(in.columnIndex());
                if (xs.size() != n) return col + " (input '" + in.input() + "', " + in.describeShape() + " per row) has " + xs.size() + " values, expected " + n;
                for (int i = 0; i < n; i++) {
                    Object x = xs.get(i);
                    if (x == null) return col + " (input '" + in.input() + "') has a null at index " + i;
                    batch[at + i] = ((Number) x).floatValue();
                }
            }
            case F32_LE_BYTES -> {
                byte[] bytes = (byte[]) v;
                if (bytes.length != 4L * n)
                    return col + " (input '" + in.input() + "', " + in.describeShape() + " per row) has " + bytes.length + " bytes, expected " + 4L * n
                            + " (" + n + " little-endian float32)";
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(batch, at, n);
            }
        }
        return null;
    }
}
