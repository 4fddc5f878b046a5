package dev.kiln.bench;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.GRU;
import dev.kiln.frontend.nn.LSTM;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * One-layer LSTM and GRU (and their bidirectional forms) side by side at the same sizes, batch-first
 * [batch, steps, input]: a GRU has 3 gate blocks to an LSTM's 4, so at equal efficiency it takes
 * about 3/4 of the time. One op = 2·G·H·(I + H)·T·B·D flops (G = 4 or 3 gates, D directions).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class RecurrentBenchmark {
    /** batch x steps x input x hidden */
    @Param({"8x64x64x128", "1x128x64x256"}) String shape;
    @Param({"lstm", "gru", "bilstm", "bigru"}) String cell;
    @Param({"2"}) int threads;
    @Param({"cpu"}) String backend;
    Harness h;

    @Setup public void setup() {
        String[] s = shape.split("x");
        int b = Integer.parseInt(s[0]), t = Integer.parseInt(s[1]), in = Integer.parseInt(s[2]), hid = Integer.parseInt(s[3]);
        boolean bi = cell.startsWith("bi");
        dev.kiln.frontend.Module m = cell.endsWith("lstm") ? new LSTM(in, hid, 1).batchFirst(true).bidirectional(bi) : new GRU(in, hid, 1).batchFirst(true).bidirectional(bi);
        h = new Harness(Tracer.trace(m.initialize(3), b, t, in), backend, threads);
    }

    @TearDown public void tearDown() { h.close(); }

    @Benchmark public float rnn() { return h.call(); }
}
