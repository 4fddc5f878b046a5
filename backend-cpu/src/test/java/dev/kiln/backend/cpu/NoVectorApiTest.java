package dev.kiln.backend.cpu;

import dev.kiln.ir.BackendUnavailableException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A program that embeds Kiln but forgot the incubator module hears so before any work, not mid-run. */
class NoVectorApiTest {
    @Test
    void withoutTheIncubatorModuleTheBackendSaysWhichFlagToAdd() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), NoVectorApiProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("compile=" + BackendUnavailableException.class.getName() + ": " + CpuBackend.NO_VECTOR_API), out);
        assertTrue(CpuBackend.NO_VECTOR_API.contains("--add-modules jdk.incubator.vector"));
    }

    @Test
    void withTheModuleTheBackendIsAvailable() {
        assertTrue(new CpuBackend().isAvailable());
        assertTrue(new CpuBackend().unavailability().isEmpty());
    }
}
