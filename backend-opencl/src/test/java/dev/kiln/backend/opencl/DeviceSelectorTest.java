package dev.kiln.backend.opencl;

import dev.kiln.ir.KilnException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device selection over made-up device lists (no OpenCL needed). */
class DeviceSelectorTest {
    static final DeviceLimits LIMITS = new DeviceLimits(256, new long[]{256, 256, 64}, 32768, 1, 8, 1L << 30, 4L << 30);

    static DeviceInfo device(int platform, String platformName, int index, String name, DeviceInfo.Type type) {
        String version = type == DeviceInfo.Type.CPU ? "OpenCL 3.0 PoCL HSTR: pthread-x86_64" : "OpenCL 3.0 CUDA";
        return new DeviceInfo(platform, platformName, index, name, type, version, "1.0", LIMITS, null, null);
    }

    static final DeviceInfo POCL = device(0, "Portable Computing Language", 0, "pthread-skylake", DeviceInfo.Type.CPU);
    static final DeviceInfo GPU = device(1, "NVIDIA CUDA", 0, "NVIDIA GeForce RTX 3060", DeviceInfo.Type.GPU);
    static final DeviceInfo GPU2 = device(1, "NVIDIA CUDA", 1, "NVIDIA A100", DeviceInfo.Type.GPU);

    @Test
    void defaultIsTheFirstGpuElseTheFirstCpu() {
        assertEquals(GPU, DeviceSelector.select(List.of(POCL, GPU, GPU2), null));
        assertEquals(POCL, DeviceSelector.select(List.of(POCL), "default"));
        DeviceInfo accel = device(2, "FPGA", 0, "fpga", DeviceInfo.Type.ACCELERATOR);
        assertEquals(POCL, DeviceSelector.select(List.of(accel, POCL), null));
        assertEquals(accel, DeviceSelector.select(List.of(accel), null));
    }

    @Test
    void selectsByTypeIndexPlatformAndDeviceOrName() {
        List<DeviceInfo> all = List.of(POCL, GPU, GPU2);
        assertEquals(POCL, DeviceSelector.select(all, "cpu"));
        assertEquals(GPU, DeviceSelector.select(all, "GPU"));
        assertEquals(GPU2, DeviceSelector.select(all, "2"));
        assertEquals(GPU2, DeviceSelector.select(all, "1:1"));
        assertEquals(POCL, DeviceSelector.select(all, "pocl"));
        assertEquals(POCL, DeviceSelector.select(all, "portable"));
        assertEquals(GPU2, DeviceSelector.select(all, "a100"));
    }

    @Test
    void aSelectorMatchingNothingListsTheDevicesAndTheSyntax() {
        KilnException e = assertThrows(KilnException.class, () -> DeviceSelector.select(List.of(POCL), "gpu"));
        assertTrue(e.getMessage().contains("there is no GPU device") && e.getMessage().contains("0:0 Portable Computing Language / pthread-skylake (CPU)"),
                e.getMessage());
        assertTrue(assertThrows(KilnException.class, () -> DeviceSelector.select(List.of(POCL), "3")).getMessage().contains("only 1 devices"));
        assertTrue(assertThrows(KilnException.class, () -> DeviceSelector.select(List.of(POCL), "0:4")).getMessage().contains("no device 4 on platform 0"));
        assertTrue(assertThrows(KilnException.class, () -> DeviceSelector.select(List.of(POCL), "tesla")).getMessage().contains("Selectors: gpu, cpu"));
    }

    @Test
    void theOptionWinsOverTheEnvironmentVariable() {
        Map<String, String> env = Map.of("KILN_OPENCL_DEVICE", "gpu");
        assertEquals("cpu", DeviceSelector.selectorFrom(Map.of("device", "cpu"), env::get));
        assertEquals("gpu", DeviceSelector.selectorFrom(Map.of(), env::get));
        assertNull(DeviceSelector.selectorFrom(Map.of("device", " "), k -> null));
    }
}
