package dev.kiln.runtime.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {
    @TempDir Path dir;

    @Test
    void showsTheJdkTheCpuAndEveryBackendsFacts() {
        String out = Cli.run("doctor").expect(0).out();
        assertTrue(out.startsWith("kiln 0.1.0\njava: "), out);
        assertTrue(out.contains("\ncpu: "), out);
        assertTrue(out.contains("backend cpu: available\n"), out);
        assertTrue(out.matches("(?s).*\n  Vector API: preferred float species \\d+ bits \\(\\d+ floats per vector\\)\n.*"), out);
        assertTrue(out.contains("\n  JIT: ") && out.contains("C2 on"), out);
        assertTrue(out.contains("backend opencl: "), out);
        assertTrue(out.contains("  program cache: "), out);
    }

    @Test
    void withoutOpenClSaysWhatIsMissingAndStillSucceeds() {
        String out = Cli.run(Cli.withoutOpenCl(), "doctor").expect(0).out();
        assertTrue(out.contains("backend opencl: unavailable\n"), out);
    }

    @Test
    void readsTheCpuModelAndItsSimdFlags() throws IOException {
        Path info = dir.resolve("cpuinfo");
        Files.writeString(info, "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw xsave\n\n"
                + "processor\t: 1\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse4_2\n");
        assertEquals("cpu: AMD EPYC 9R14; SIMD: avx avx2 avx512bw avx512f fma sse4_2", DoctorCommand.cpu(info));
        assertTrue(DoctorCommand.cpu(dir.resolve("none")).contains("no " + dir.resolve("none")));
    }
}
