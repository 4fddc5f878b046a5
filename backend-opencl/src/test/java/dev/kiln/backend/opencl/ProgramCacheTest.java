package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Programs are built once per source and device: kept in memory, and as binaries on disk across JVMs. */
class ProgramCacheTest {
    @TempDir Path dir;

    private static Graph graph(float alpha) {
        TestGraph t = new TestGraph("cached-" + alpha);
        return t.returning(t.op(Unary.of(Unary.Kind.LEAKY_RELU, alpha), t.input(3, 5)));
    }

    private static ProgramCache cache() {
        return OpenClRuntime.context(DeviceSelector.select(OpenClRuntime.devices(), null)).programs();
    }

    @Test
    void compilingTheSameGraphAgainReusesTheBuiltProgram() {
        OpenClTesting.assumeOpenCl();
        Graph g = graph(0.125f);
        Map<String, String> options = Map.of("cache-dir", dir.toString());
        OpenClTesting.compile(g, options).close();
        ProgramCache.Stats before = cache().stats();
        try (Executable a = OpenClTesting.compile(g, options); Executable b = OpenClTesting.compile(g, options)) {
            OpenClTesting.assertClose(a.run(OpenClTesting.inputs(g, 1)), b.run(OpenClTesting.inputs(g, 1)), "same program");
        }
        ProgramCache.Stats after = cache().stats();
        assertEquals(before.sourceBuilds(), after.sourceBuilds(), "no new build");
        assertEquals(before.memoryHits() + 2, after.memoryHits());
    }

    @Test
    void aNewJvmLoadsTheBinaryFromDiskAndRebuildsADamagedOne() throws Exception {
        OpenClTesting.assumeOpenCl();
        Graph g = graph(0.375f);
        Map<String, String> options = Map.of("cache-dir", dir.toString());
        OpenClTesting.compile(g, options).close();
        List<Path> binaries;
        try (var files = Files.list(dir)) {
            binaries = files.filter(f -> f.toString().endsWith(".bin")).toList();
        }
        assertEquals(1, binaries.size(), "one binary on disk");

        cache().clearMemory(); // as a new JVM would start
        ProgramCache.Stats before = cache().stats();
        try (Executable e = OpenClTesting.compile(g, options)) {
            OpenClTesting.assertClose(dev.kiln.ir.ReferenceInterpreter.run(g, OpenClTesting.inputs(g, 2)), e.run(OpenClTesting.inputs(g, 2)), "from disk");
        }
        assertEquals(before.binaryLoads() + 1, cache().stats().binaryLoads());
        assertEquals(before.sourceBuilds(), cache().stats().sourceBuilds());

        Files.write(binaries.getFirst(), new byte[]{1, 2, 3});
        cache().clearMemory();
        try (Executable e = OpenClTesting.compile(g, options)) {
            OpenClTesting.assertClose(dev.kiln.ir.ReferenceInterpreter.run(g, OpenClTesting.inputs(g, 3)), e.run(OpenClTesting.inputs(g, 3)), "rebuilt");
        }
        assertEquals(before.sourceBuilds() + 1, cache().stats().sourceBuilds(), "the damaged binary was rebuilt from source");
    }
}
