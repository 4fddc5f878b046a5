package dev.kiln.runtime.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    @TempDir Path dir;
    Path model;

    @BeforeEach
    void compile() {
        model = dir.resolve("m.kiln");
        Cli.run("compile", "cnn", "-o", model.toString()).expect(0);
    }

    @Test
    void reportsWarmUpCurveLatencyPercentilesAndThroughput() {
        String out = Cli.run("bench", model.toString(), "--iterations", "12").expect(0).out();
        assertTrue(out.contains("bench " + model + ": @SmallCnn on cpu, (x: f32[1,3,24,24])"), out);
        assertTrue(out.contains("12 calls on 1 thread"), out);
        assertTrue(out.matches("(?s).*first call: [0-9.]+ ms.*"), out);
        assertTrue(out.matches("(?s).*warm-up: within 10% of steady state \\([0-9.]+ ms, the median of the last 3 calls\\) after \\d+ calls? and [0-9.]+ ms.*"), out);
        assertTrue(out.matches("(?s).*latency over the \\d+ calls after warm-up: min [0-9.]+  median [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  max [0-9.]+ ms.*"), out);
        assertTrue(out.matches("(?s).*throughput: [0-9.]+ calls/s with 1 thread\n.*"), out);
    }

    @Test
    void warmsUpBeforeTheFirstTimedCallWhenAsked() {
        String budget = System.getProperty("kiln.warmup.budget.ms");
        System.setProperty("kiln.warmup.budget.ms", "300");      // the line's form is tested here, not how long C2 takes
        try {
            String out = Cli.run("bench", model.toString(), "--iterations", "4", "--warm-up").expect(0).out();
            assertTrue(out.matches("(?s).*warm-up \\(CompiledModel.warmUp\\(\\)\\): \\d+ calls in \\d+ ms \\((settled|not settled: .*); last call [0-9.]+ ms\\)\n.*first call: .*"), out);
        } finally {
            if (budget == null) System.clearProperty("kiln.warmup.budget.ms");
            else System.setProperty("kiln.warmup.budget.ms", budget);
        }
    }

    @Test
    void callsFromSeveralThreadsAtOnce() {
        String out = Cli.run("bench", model.toString(), "--iterations", "10", "--threads", "3", "--no-progress").expect(0).out();
        assertTrue(out.contains("10 calls on 3 threads") && out.contains("calls/s with 3 threads"), out);
    }

    @Test
    void byDefaultMeasuresForAGivenTimeAfterWarmUp() {
        String out = Cli.run("bench", model.toString(), "--seconds", "0.5").expect(0).out();
        assertTrue(out.contains("calls until 0.5 s after warm-up on 1 thread"), out);
        assertTrue(out.matches("(?s).*warm-up: within 10% of steady state .*"), out);
        var m = java.util.regex.Pattern.compile("latency over the (\\d+) calls after warm-up").matcher(out);
        // how many calls fit in 0.5 s depends on the machine and its load (7 seen on 2 busy cores while C2 compiled)
        assertTrue(m.find() && Integer.parseInt(m.group(1)) >= 2, out);
    }

    @Test
    void refusesBadCountsAndAnotherBackend() {
        assertTrue(Cli.run("bench", model.toString(), "--seconds", "0").expect(2).err().contains("--seconds must be in (0, 60]"));
        assertTrue(Cli.run("bench", model.toString(), "--iterations", "1").expect(2).err().contains("--iterations must be at least 2"));
        assertTrue(Cli.run("bench", model.toString(), "--threads", "0").expect(2).err().contains("--threads must be at least 1"));
        assertTrue(Cli.run("bench", model.toString(), "--iterations", "ten").expect(2).err().contains("'ten'"));
        assertTrue(Cli.run("bench", model.toString(), "--backend", "opencl").expect(1).err().contains("compiled for target 'cpu', not 'opencl'"));
        assertTrue(Cli.run("bench", dir.resolve("none.kiln").toString()).expect(1).err().contains("no such file"));
    }
}
