package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.MatMul;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tuning on the device with a tiny budget, and its disk cache: miss, hit, corrupt file, another device's key. */
class TunerTest {
    @TempDir Path dir;
    private final ByteArrayOutputStream warned = new ByteArrayOutputStream();
    private final PrintStream warnings = new PrintStream(warned, true, StandardCharsets.UTF_8);

    static Graph twoGemms() {
        TestGraph t = new TestGraph("tuned");
        String x = t.input(9, 24);
        String y = t.op(new Linear(), x, t.weight(20, 24), t.weight(20));
        String z = t.op(new MatMul(), y, t.input(20, 35));
        return t.returning(z);
    }

    private Tuner.Result tune(Graph g, DeviceContext device, DeviceLimits limits) {
        return Tuner.tune(g, device, limits, dir, 1, warnings);
    }

    @Test
    void aMissIsMeasuredAndSavedAndTheSecondTuneIsACacheHit() throws Exception {
        DeviceInfo info = CpuDeviceGemmTest.device();
        DeviceContext device = OpenClRuntime.context(info);
        DeviceLimits limits = info.limits().withType(DeviceInfo.Type.CPU);
        Graph g = twoGemms();

        Tuner.Result first = tune(g, device, limits);
        assertEquals(new Tuner.Report(2, 0, 2, first.report().millis()), first.report());
        assertEquals(2, first.limits().tuned().size());
        Path file = dir.resolve(TuningCache.FILE);
        String saved = Files.readString(file);
        assertTrue(saved.startsWith(TuningCache.HEADER) && saved.contains(Tuner.FAMILY) && saved.contains("9x20x24"), saved);

        Tuner.Result second = tune(g, device, limits);
        assertEquals(new Tuner.Report(2, 2, 0, second.report().millis()), second.report());
        assertEquals(saved, Files.readString(file), "a hit writes nothing");
        assertEquals("", warned.toString(StandardCharsets.UTF_8));

        // the tuned tiles compute the same results
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 5);
        try (Executable e = OpenClExecutable.create(g, device, second.limits(), null, null)) {
            OpenClTesting.assertClose(ReferenceInterpreter.run(g, in), e.run(in), "tuned");
        }
    }

    @Test
    void aCorruptCacheFileIsReportedIgnoredAndRewritten() throws Exception {
        DeviceInfo info = CpuDeviceGemmTest.device();
        DeviceContext device = OpenClRuntime.context(info);
        Path file = dir.resolve(TuningCache.FILE);
        Files.writeString(file, "# kiln\n" + info.cacheKey() + "\tcpu-gemm-v1\t1x9x20x24 a:k b:k\tdot 4xZxfloat16 group 1\n");
        Tuner.Result r = tune(twoGemms(), device, info.limits().withType(DeviceInfo.Type.CPU));
        assertEquals(2, r.report().measured());
        String w = warned.toString(StandardCharsets.UTF_8);
        assertTrue(w.contains("warning: ignoring the OpenCL tuning cache " + file), w);
        assertTrue(Files.readString(file).startsWith(TuningCache.HEADER), "rewritten");

        Files.write(file, new byte[]{(byte) 0xff, (byte) 0xfe, 0, 1, 2});   // not even text
        warned.reset();
        assertEquals(2, tune(twoGemms(), device, info.limits().withType(DeviceInfo.Type.CPU)).report().measured());
        assertTrue(warned.toString(StandardCharsets.UTF_8).contains("ignoring the OpenCL tuning cache"), warned.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anotherDevicesEntriesAreNotUsed() {
        TuningCache c = TuningCache.open(dir, warnings);
        CpuDeviceGemm.Problem p = new CpuDeviceGemm.Problem(1, 9, 20, 24, true, false, true);
        c.put("PoCL|cpu-a|OpenCL 3.0|5.0", Tuner.FAMILY, p, CpuDeviceGemm.Params.parse("dot 2x8xfloat16 group 1x1"), 12.5);
        c.save();
        TuningCache again = TuningCache.open(dir, warnings);
        assertEquals(CpuDeviceGemm.Params.parse("dot 2x8xfloat16 group 1x1"), again.get("PoCL|cpu-a|OpenCL 3.0|5.0", Tuner.FAMILY, p));
        assertEquals(null, again.get("PoCL|cpu-a|OpenCL 3.0|6.0", Tuner.FAMILY, p), "another driver version");
        assertEquals(null, again.get("PoCL|cpu-b|OpenCL 3.0|5.0", Tuner.FAMILY, p), "another device");
        assertEquals(null, again.get("PoCL|cpu-a|OpenCL 3.0|5.0", "cpu-gemm-v2", p), "another family");
        assertEquals(null, again.get("PoCL|cpu-a|OpenCL 3.0|5.0", Tuner.FAMILY, new CpuDeviceGemm.Problem(1, 9, 20, 25, true, false, true)), "another shape");
        assertEquals("", warned.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aGpuDeviceHasNothingToTune() {
        DeviceInfo info = CpuDeviceGemmTest.device();
        Tuner.Result r = tune(twoGemms(), OpenClRuntime.context(info), info.limits().withType(DeviceInfo.Type.GPU));
        assertEquals(0, r.report().problems());
        assertTrue(Files.notExists(dir.resolve(TuningCache.FILE)));
    }

    @Test
    void theBackendOptionsAreCheckedAndTuneOnCompiles() {
        Graph g = twoGemms();
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 2);
        try (Executable e = OpenClTesting.compile(g, Map.of("tune", "on", "tune-budget-ms", "1", "cache-dir", dir.toString()))) {
            OpenClTesting.assertClose(ReferenceInterpreter.run(g, in), e.run(in), "tune=on");
        }
        var bad = assertThrows(KilnException.class, () -> OpenClTesting.compile(g, Map.of("tune", "sometimes")));
        assertTrue(bad.getMessage().contains("tune=sometimes: expected on or off"), bad.getMessage());
        bad = assertThrows(KilnException.class, () -> OpenClTesting.compile(g, Map.of("tune", "on", "tune-budget-ms", "-3")));
        assertTrue(bad.getMessage().contains("tune-budget-ms=-3"), bad.getMessage());
    }
}
