package dev.kiln.backend.opencl;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Unary;
import dev.kiln.passes.PassManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A steady runInto allocates nothing on the Java heap: the staging buffers, JOCL pointers and
 * launch sizes of a run are all made when its buffers are, so what a call costs is the device's
 * round trip, not garbage. Checked on a one-kernel graph, on models with haloed inputs (cnn),
 * several kernels (mobilenet) and a recurrent kernel (lstm), and the answers stay right.
 */
class OpenClAllocationTest {
    static Graph relu() {
        GraphBuilder b = new GraphBuilder("relu1024");
        String x = b.input("x", TensorType.f32(1024));
        b.output(b.add(new Unary(Act.RELU), List.of(x), ""));
        return b.build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "cnn", "mobilenet", "lstm", "seq-attention"})
    void steadyRunIntoAllocatesNothing(String name) {
        OpenClTesting.assumeOpenCl();
        Graph g = name.equals("relu") ? relu() : PassManager.defaults().run(Tracer.trace(
                Examples.byName(name).model().get().initialize(3), "x", Examples.byName(name).inputShape())).graph();
        Map<String, HostTensor> in = OpenClTesting.inputs(g, 7), out = new LinkedHashMap<>();
        for (String o : g.outputs()) out.put(o, HostTensor.zeros(g.typeOf(o).shape()));
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Executable e = OpenClTesting.compile(g)) {
            long perCall;
            int rounds = 0;
            do {   // the JIT may need a few rounds to scalar-replace what the run path's callees allocate
                for (int i = 0; i < 50; i++) e.runInto(in, out);
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 50; i++) e.runInto(in, out);
                perCall = (mx.getCurrentThreadAllocatedBytes() - before) / 50;
            } while (perCall > 0 && ++rounds < 20);
            System.out.println("[alloc] opencl " + name + ": " + perCall + " bytes per call after " + rounds + " extra rounds");
            if (OpenClRuntime.sharesHostMemory(OpenClRuntime.devices().getFirst())) assertEquals(0, perCall, name + " allocates per call");
            else   // the copying path (a GPU, or -Dkiln.opencl.zero-copy=false): JOCL allocates 64 B per non-blocking transfer
                assertTrue(perCall <= 64L * (g.inputs().size() + g.outputs().size() + 4), name + " allocates " + perCall + " B per call");
            OpenClTesting.assertClose(ReferenceInterpreter.run(g, in), out, name);
        }
    }
}
