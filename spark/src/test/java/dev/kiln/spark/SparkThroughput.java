package dev.kiln.spark;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Rows/s of the built-in small CNN (3×24×24 -> 10, fixed batch 64) scored in Spark local[1] and local[2], next to
 * the same batches through CompiledModel in a plain loop on 1 and 2 threads (threads=1 per call everywhere).
 * Not a test: run by hand (see README, "Kiln on Apache Spark"). Args: rows (default 16384), repetitions (3).
 */
public final class SparkThroughput {
    static final int BATCH = 64, ELEMENTS = 3 * 24 * 24;

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 16384, reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createTempDirectory("kiln-spark-bench");
        Path artifact = SparkSessions.fixedCnnArtifact(dir, BATCH);
        float[][] tensors = new float[rows][];
        for (int i = 0; i < rows; i++) tensors[i] = SparkSessions.rowTensor(i, ELEMENTS);
        System.out.printf("model: SmallCnn 3x24x24 -> 10 at batch %d, %d rows, %d cores, %s%n", BATCH, rows,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));

        for (int threads = 1; threads <= 2; threads++) {
            try (CompiledModel m = Kiln.load(artifact, Target.cpu().withOption("threads", "1"))) {
                plainLoop(m, tensors, 1);
                for (int r = 0; r < reps; r++) report("plain CompiledModel loop, " + threads + " thread(s)", rows, plainLoop(m, tensors, threads));
            }
        }
        for (int threads = 1; threads <= 2; threads++) {
            SparkSession spark = SparkSessions.local(threads);
            try {
                for (String encoding : List.of("binary", "array<float>")) {
                    Dataset<Row> df = data(spark, tensors, encoding);
                    KilnInference k = KilnInference.fromPath(spark, artifact);
                    long t0 = System.nanoTime();
                    k.score(df).count();
                    System.out.printf("spark local[%d] %s: first job (incl. this JVM's model load %s) %.0f rows/s%n", threads, encoding,
                            k.metrics().snapshot(), rows / ((System.nanoTime() - t0) / 1e9));
                    for (int r = 0; r < reps; r++) {
                        KilnInference again = KilnInference.fromPath(spark, artifact);
                        long t = System.nanoTime();
                        again.score(df).count();
                        double s = (System.nanoTime() - t) / 1e9;
                        report("spark local[" + threads + "] " + encoding + " (" + again.metrics().snapshot() + ")", rows, s);
                    }
                    df.unpersist(true);
                }
            } finally {
                spark.stop();
            }
        }
    }

    static void report(String what, int rows, double seconds) {
        System.out.printf("%-110s %8.0f rows/s (%.2f s)%n", what, rows / seconds, seconds);
    }

    /** The rows cut into full batches of 64 (the tail dropped), split between threads; seconds for all. */
    static double plainLoop(CompiledModel m, float[][] tensors, int threads) throws Exception {
        int batches = tensors.length / BATCH;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                fs.add(pool.submit(() -> {
                    for (int b = first; b < batches; b += threads) {
                        float[] data = new float[BATCH * ELEMENTS];
                        for (int r = 0; r < BATCH; r++) System.arraycopy(tensors[b * BATCH + r], 0, data, r * ELEMENTS, ELEMENTS);
                        m.run(HostTensor.of(Shape.of(BATCH, 3, 24, 24), data));
                    }
                }));
            }
            for (Future<?> f : fs) f.get();
            return (System.nanoTime() - t0) / 1e9 * tensors.length / (batches * BATCH);
        } finally {
            pool.shutdown();
        }
    }

    /** The rows as a cached Dataset of 8 partitions (materialised before timing), x as binary or array<float>. */
    static Dataset<Row> data(SparkSession spark, float[][] tensors, String encoding) {
        boolean binary = encoding.equals("binary");
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("x", binary ? DataTypes.BinaryType : DataTypes.createArrayType(DataTypes.FloatType, false), false);
        List<Row> rows = new ArrayList<>(tensors.length);
        for (int i = 0; i < tensors.length; i++) {
            Object x;
            if (binary) {
                ByteBuffer b = ByteBuffer.allocate(4 * ELEMENTS).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : tensors[i]) b.putFloat(v);
                x = b.array();
            } else {
                x = tensors[i];
            }
            rows.add(RowFactory.create((long) i, x));
        }
        Dataset<Row> df = spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 8), schema).cache();
        df.count();
        return df;
    }
}
