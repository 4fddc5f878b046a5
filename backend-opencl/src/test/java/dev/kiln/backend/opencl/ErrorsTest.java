package dev.kiln.backend.opencl;

import dev.kiln.ir.BackendUnavailableException;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.op.Reduce;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each way OpenCL can fail ends in a clear KilnException and never in a crash. Machines without
 * OpenCL are simulated in child JVMs: a libOpenCL.so.1 that cannot load (an empty file first on
 * LD_LIBRARY_PATH) and an ICD loader without platforms (OCL_ICD_VENDORS pointing at an empty
 * directory).
 */
class ErrorsTest {
    @TempDir Path tmp;

    record Child(int exitCode, String stdout, String stderr) {
        String line(String key) {
            return stdout.lines().filter(l -> l.startsWith(key + "=")).findFirst().orElse(key + " missing from:\n" + stdout + stderr);
        }
    }

    Child probe(Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), OpenClProbeMain.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(tmp.resolve("out.txt").toFile()).redirectError(tmp.resolve("err.txt").toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        return new Child(p.exitValue(), Files.readString(tmp.resolve("out.txt")), Files.readString(tmp.resolve("err.txt")));
    }

    @Test
    void withoutAnOpenClLibraryTheErrorSaysWhatToInstall() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Files.write(lib.resolve("libOpenCL.so.1"), new byte[0]);
        Child c = probe(Map.of("LD_LIBRARY_PATH", lib.toString(), "CI", "false"));
        assertEquals(0, c.exitCode(), () -> "the JVM must not crash:\n" + c.stdout() + c.stderr());
        assertEquals("available=false", c.line("available"));
        String compile = c.line("compile");
        assertTrue(compile.startsWith("compile=" + BackendUnavailableException.class.getName()), compile);
        assertTrue(compile.contains("libOpenCL.so.1") && compile.contains("apt-get install ocl-icd-libopencl1 pocl-opencl-icd"), compile);
        assertEquals("unknownOption=" + KilnException.class.getName() + ": unknown option 'threads' for the opencl backend;"
                + " its options are device, dump-code, cache-dir, tune, tune-budget-ms", c.line("unknownOption"), "options are checked before OpenCL is touched");
        assertTrue(c.stdout().contains("done"), c.stdout() + c.stderr());
        assertTrue(c.stderr().lines().allMatch(l -> l.startsWith("WARNING: Using incubator")),
                () -> "Kiln explains the missing library once; nothing else on stderr:\n" + c.stderr());
    }

    @Test
    void withoutAnOpenClPlatformTheErrorSaysWhatToInstall() throws Exception {
        OpenClTesting.assumeOpenCl(); // the library must be here for its loader to find no platform
        Path vendors = Files.createDirectories(tmp.resolve("vendors"));
        Child c = probe(Map.of("OCL_ICD_VENDORS", vendors.toString(), "CI", "false"));
        assertEquals(0, c.exitCode(), () -> c.stdout() + c.stderr());
        assertEquals("available=false", c.line("available"));
        String compile = c.line("compile");
        assertTrue(compile.startsWith("compile=" + BackendUnavailableException.class.getName()), compile);
        assertTrue(compile.contains("no OpenCL platform") && compile.contains("ocl-icd-libopencl1 pocl-opencl-icd"), compile);
        assertTrue(c.line("assume").startsWith("assume=TestAbortedException"), "skipped outside CI: " + c.line("assume"));
    }

    @Test
    void underCiAMissingPlatformFailsInsteadOfSkipping() throws Exception {
        Path vendors = Files.createDirectories(tmp.resolve("vendors"));
        Child c = probe(Map.of("OCL_ICD_VENDORS", vendors.toString(), "CI", "true"));
        assertEquals(0, c.exitCode(), () -> c.stdout() + c.stderr());
        String assume = c.line("assume");
        assertTrue(assume.startsWith("assume=AssertionFailedError") && assume.contains("CI=true"), assume);
    }

    @Test
    void aKernelBuildFailureShowsTheBuildLogAndTheSource() {
        OpenClTesting.assumeOpenCl();
        DeviceContext device = OpenClRuntime.context(DeviceSelector.select(OpenClRuntime.devices(), null));
        long programs = ClObjects.live(ClObjects.Kind.PROGRAM);
        String source = "__kernel void broken(global float* out) {\n    out[0] = undeclared_name;\n}\n";
        KilnException e = assertThrows(KilnException.class, () -> device.programs().program(source, null));
        assertTrue(e.getMessage().contains("kernel build failed") && e.getMessage().contains("Build log:"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_name") && e.getMessage().contains("    2|     out[0] = undeclared_name;"), e.getMessage());
        assertEquals(programs, ClObjects.live(ClObjects.Kind.PROGRAM), "the failed program is released");
    }

    /**
     * A graph whose input alone is larger than the device's largest allocation. Devices differ in
     * that limit (PoCL's is 8 GiB, past the 2^31 elements a Kiln buffer may index), so the device
     * is opened under limits that say 64 MiB: the case is made on every device, never skipped.
     */
    @Test
    void aTensorLargerThanTheDeviceCanAllocateIsAClearError() {
        OpenClTesting.assumeOpenCl();
        DeviceInfo real = DeviceSelector.select(OpenClRuntime.devices(), null);
        DeviceLimits r = real.limits();
        DeviceLimits small = new DeviceLimits(r.maxWorkGroupSize(), r.maxWorkItemSizes(), r.localMemBytes(),
                r.preferredVectorWidth(), r.computeUnits(), 64L << 20, r.globalMemBytes());
        DeviceInfo info = new DeviceInfo(real.platformIndex(), real.platformName(), real.deviceIndex(), real.name(),
                real.type(), real.version(), real.driverVersion(), small, real.platform(), real.id());
        int rows = (int) (small.maxAllocBytes() / 4 / 4096 + 1);
        TestGraph t = new TestGraph("huge");
        Graph g = t.returning(t.op(Reduce.globalAvgPool(), t.input(1, 1, rows, 4096)));
        DeviceContext device = DeviceContext.create(info);
        try {
            long buffers = ClObjects.live(ClObjects.Kind.BUFFER);
            KilnException e = assertThrows(KilnException.class, () -> OpenClExecutable.create(g, device, small, null, null));
            assertTrue(e.getMessage().contains("device out of memory") && e.getMessage().contains("input %x0")
                    && e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE 64.00 MiB"), e.getMessage());
            assertEquals(buffers, ClObjects.live(ClObjects.Kind.BUFFER), "nothing allocated is left behind");
        } finally {
            ClObjects.release(device.queue());
            ClObjects.release(device.context());
        }
    }

    @Test
    void aGraphLargerThanTheDeviceMemoryIsAClearError() {
        OpenClTesting.assumeOpenCl();
        DeviceLimits l = DeviceSelector.select(OpenClRuntime.devices(), null).limits();
        long elements = Math.min(l.maxAllocBytes() / 4, Integer.MAX_VALUE - 1) - 4096;
        int parts = (int) (l.globalMemBytes() / 4 / elements) + 1;
        TestGraph t = new TestGraph("too-much");
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < parts; i++) outs.add(t.op(Unary.of(Unary.Kind.RELU), t.input((int) (elements / 4096), 4096)));
        Graph g = t.returning(outs.toArray(String[]::new));
        KilnException e = assertThrows(KilnException.class, () -> OpenClTesting.compile(g));
        assertTrue(e.getMessage().contains("device out of memory") && e.getMessage().contains("global memory"), e.getMessage());
    }

    @Test
    void runningAClosedExecutableOrWithWrongInputsNamesTheProblem() {
        TestGraph t = new TestGraph("closed");
        Graph g = t.returning(t.op(Unary.of(Unary.Kind.TANH), t.input(2, 3)));
        Executable e = OpenClTesting.compile(g);
        ShapeException shape = assertThrows(ShapeException.class, () -> e.run(Map.of("x0", HostTensor.zeros(3, 2))));
        assertTrue(shape.getMessage().contains("x0") && shape.getMessage().contains("[2,3]"), shape.getMessage());
        KilnException missing = assertThrows(KilnException.class, () -> e.run(Map.of()));
        assertTrue(missing.getMessage().contains("missing input 'x0'"), missing.getMessage());
        e.close();
        e.close();
        KilnException closed = assertThrows(KilnException.class, () -> e.run(Map.of("x0", HostTensor.zeros(2, 3))));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    @Test
    void anUnknownOptionIsAnErrorListingTheKnownOnesWithOrWithoutADevice() {
        TestGraph t = new TestGraph("options");
        Graph g = t.returning(t.op(Unary.of(Unary.Kind.TANH), t.input(2)));
        KilnException e = assertThrows(KilnException.class, () -> new OpenClBackend().compile(g, Map.of("cache_dir", "/tmp/x", "device", "cpu")));
        assertEquals("unknown option 'cache_dir' for the opencl backend; its options are device, dump-code, cache-dir, tune, tune-budget-ms", e.getMessage());
    }

    @Test
    void aDeviceSelectorThatMatchesNothingListsTheDevices() {
        OpenClTesting.assumeOpenCl(); // before assertThrows, which would turn the skip into a failure
        TestGraph t = new TestGraph("selector");
        Graph g = t.returning(t.op(Unary.of(Unary.Kind.TANH), t.input(2)));
        KilnException e = assertThrows(KilnException.class, () -> OpenClTesting.compile(g, Map.of("device", "no-such-device")));
        assertTrue(e.getMessage().contains("no-such-device") && e.getMessage().contains("Devices here: 0:0"), e.getMessage());
    }
}
