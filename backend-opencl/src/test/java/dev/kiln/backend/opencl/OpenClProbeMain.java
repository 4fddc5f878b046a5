package dev.kiln.backend.opencl;

import dev.kiln.ir.Executable;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Unary;

import java.util.List;
import java.util.Map;

/**
 * Run in a child JVM by the error tests, under an environment without OpenCL: reports what the
 * backend says about availability, compiling, an unknown option and the CI rule, one "key=value" line each, and
 * exits normally (a crash or an escaping error is what the tests look for).
 */
public final class OpenClProbeMain {
    private OpenClProbeMain() {}

    public static void main(String[] args) {
        OpenClBackend backend = new OpenClBackend();
        System.out.println("available=" + backend.isAvailable());
        GraphBuilder b = new GraphBuilder("probe");
        b.output(b.add(Unary.of(Unary.Kind.RELU), List.of(b.input("x", TensorType.f32(4))), ""));
        try (Executable e = backend.compile(b.build(), Map.of())) {
            System.out.println("ran=" + e.run(Map.of("x", HostTensor.zeros(4))));
        } catch (RuntimeException e) {
            System.out.println("compile=" + e.getClass().getName() + ": " + e.getMessage().replace('\n', ' '));
        }
        try {
            backend.compile(b.build(), Map.of("threads", "2")).close();
            System.out.println("unknownOption=accepted");
        } catch (RuntimeException e) {
            System.out.println("unknownOption=" + e.getClass().getName() + ": " + e.getMessage().replace('\n', ' '));
        }
        try {
            OpenClTesting.assumeOpenCl();
            System.out.println("assume=passed");
        } catch (Throwable t) {
            System.out.println("assume=" + t.getClass().getSimpleName() + ": " + t.getMessage().replace('\n', ' '));
        }
        System.out.println("done");
    }
}
