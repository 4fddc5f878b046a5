package dev.kiln.backend.cpu;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Unary;

import java.util.List;
import java.util.Map;

/** Run in a child JVM started without --add-modules jdk.incubator.vector: prints what the cpu backend says. */
public final class NoVectorApiProbe {
    private NoVectorApiProbe() {}

    public static void main(String[] args) {
        CpuBackend backend = new CpuBackend();
        System.out.println("available=" + backend.isAvailable());
        GraphBuilder b = new GraphBuilder("probe");
        b.output(b.add(Unary.of(Unary.Kind.RELU), List.of(b.input("x", TensorType.f32(4))), ""));
        try (var e = backend.compile(b.build(), Map.of())) {
            System.out.println("compiled");
        } catch (RuntimeException | LinkageError e) {
            System.out.println("compile=" + e.getClass().getName() + ": " + e.getMessage());
        }
    }
}
