package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.util.List;

class SmokeTest {
    @Test
    void convThenRelu() {
        GraphBuilder b = new GraphBuilder("smoke");
        String x = b.input("x", TensorType.f32(1, 3, 9, 7));
        String w = b.constant("w", HostTensor.normal(Shape.of(5, 3, 3, 3), 1));
        String bias = b.constant("bias", HostTensor.normal(Shape.of(5), 2));
        String c = b.add(Conv2d.of(1, 1), List.of(x, w, bias), "conv");
        b.output(b.add(Unary.of(Unary.Kind.RELU), List.of(c), "relu"));
        Graph g = b.build();
        OpenClTesting.assertMatchesReference(g, 7);
    }
}
