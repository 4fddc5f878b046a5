package dev.kiln.backend.opencl;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedAttention;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.Softmax;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Work-group sizes, tiles and vector widths come from the device's limits and the shapes: for
 * made-up devices from a small embedded GPU to a wide CPU, every kernel of the target models
 * stays within the limits, and the kernels generated for them compute the right results (run on
 * this machine's device, whose own limits are larger).
 */
class DeviceLimitsTest {
    static Stream<DeviceLimits> devices() {
        return Stream.of(
                new DeviceLimits(256, new long[]{256, 256, 64}, 48 * 1024, 1, 28, 1L << 30, 8L << 30),   // discrete GPU
                new DeviceLimits(64, new long[]{64, 64, 64}, 16 * 1024, 4, 4, 1L << 28, 1L << 30),        // small GPU
                new DeviceLimits(32, new long[]{32, 16, 8}, 4 * 1024, 2, 1, 1L << 28, 1L << 30),          // tiny device
                new DeviceLimits(4096, new long[]{4096, 4096, 4096}, 1 << 20, 8, 2, 1L << 31, 4L << 31)); // wide CPU
    }

    private static final Pattern LOCAL = Pattern.compile("__local float \\w+\\[(\\d+)]");

    @ParameterizedTest
    @MethodSource("devices")
    void everyKernelOfTheTargetModelsFitsTheDevice(DeviceLimits limits) {
        for (Examples.Example ex : Examples.all()) {
            Graph g = PassManager.defaults().run(Tracer.trace(ex.model().get().initialize(1), "x", ex.inputShape())).graph();
            for (Kernel k : Lowering.lower(new DeviceLayout(g), limits)) {
                if (k.isEmpty()) continue;   // not launched (e.g. a reshape aliasing its operand): no source to check
                String where = ex.name() + " " + k.name() + " " + limits;
                assertTrue(k.workGroupSize() <= limits.maxWorkGroupSize(), where);
                for (int d = 0; d < k.local().length; d++) {
                    assertTrue(k.local()[d] <= limits.maxWorkItemSizes()[d], where + " dim " + d);
                    assertEquals(0, k.global()[d] % k.local()[d], where + " global is a multiple of local");
                }
                long local = 0;
                Matcher m = LOCAL.matcher(k.source());
                while (m.find()) local += 4 * Long.parseLong(m.group(1));
                assertTrue(local <= limits.localMemBytes(), where + " uses " + local + " B of local memory");
                assertTrue(k.source().contains("reqd_work_group_size(" + k.local()[0] + ", "), where);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void kernelsGeneratedForOtherDevicesComputeTheSameResults(DeviceLimits limits) {
        OpenClTesting.assumeOpenCl();
        TestGraph t = new TestGraph("limits");
        String x = t.input(1, 6, 9, 11);
        String dwpw = t.op(new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, Act.RELU,
                Epilogue.of(Act.RELU)), x, t.weight(6, 1, 3, 3), t.weight(6), t.weight(37, 6, 1, 1), t.weight(37));
        String seq = t.input(1, 29, 12);
        String att = t.op(new FusedAttention(0.3f, false, false, false, false, false, Epilogue.NONE), seq, seq, seq);
        String fc = t.op(new Linear(Epilogue.of(Act.TANH)), att, t.weight(23, 12), t.weight(23));
        String sm = t.op(new Softmax(2), fc);
        String lstm = t.op(new Lstm(9, 1, true, false), fc, t.weight(36, 23), t.weight(36, 9), t.weight(36), t.weight(36));
        Graph g = t.returning(dwpw, sm, lstm);
        DeviceInfo device = DeviceSelector.select(OpenClRuntime.devices(), null);
        DeviceLimits here = device.limits();
        DeviceLimits usable = new DeviceLimits(Math.min(limits.maxWorkGroupSize(), here.maxWorkGroupSize()), limits.maxWorkItemSizes(),
                Math.min(limits.localMemBytes(), here.localMemBytes()), limits.preferredVectorWidth(), limits.computeUnits(),
                here.maxAllocBytes(), here.globalMemBytes());
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 3);
        try (Executable e = OpenClExecutable.create(g, OpenClRuntime.context(device), usable, null, null)) {
            OpenClTesting.assertClose(ReferenceInterpreter.run(g, in), e.run(in), "kernels for " + limits);
        }
    }
}
