package dev.kiln.frontend.onnx;

import dev.kiln.frontend.Module;
import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.nn.Activations;
import dev.kiln.frontend.nn.BatchNorm2d;
import dev.kiln.frontend.nn.ConvTranspose2d;
import dev.kiln.frontend.nn.Sequential;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * nn.ConvTranspose2d in the DSL: the DCGAN generator of the dcgan fixture written as in PyTorch,
 * loading the exported weights by their state-dict names, traces to the same result PyTorch gave.
 */
class ConvTransposeDslTest {
    static final class Dcgan extends Module {
        final Sequential main;

        Dcgan(int nz, int ngf) {
            main = register("main", new Sequential(
                    new ConvTranspose2d(nz, ngf * 4, 4).bias(false), new BatchNorm2d(ngf * 4), new Activations.ReLU(),
                    new ConvTranspose2d(ngf * 4, ngf * 2, 4).stride(2).padding(1), new BatchNorm2d(ngf * 2), new Activations.ReLU(),
                    new ConvTranspose2d(ngf * 2, ngf, 4).stride(2).padding(1), new BatchNorm2d(ngf), new Activations.ReLU(),
                    new ConvTranspose2d(ngf, 3, 4).stride(2).padding(1), new Activations.Tanh()));
        }

        @Override public Tensor forward(Tensor z) { return main.apply(z); }
    }

    @Test
    void dcganGeneratorLoadsPyTorchWeightsByNameAndMatches() {
        OnnxFixtures f = OnnxFixtures.of("dcgan", 17);
        Map<String, HostTensor> exported = f.load().weights();
        Dcgan model = new Dcgan(16, 8);
        assertEquals(Shape.of(16, 32, 4, 4), model.namedParameters().get("main.0.weight").shape());
        assertFalse(model.namedParameters().containsKey("main.0.bias"));
        Map<String, HostTensor> w = new LinkedHashMap<>();
        for (String name : model.namedParameters().keySet())
            w.put(name, assertInstanceOf(HostTensor.class, exported.get(name), () -> "no " + name + " in " + exported.keySet()));
        model.load(w);
        HostTensor z = f.inputData().get("z");
        Graph g = Tracer.trace(model, z.shape().dims());
        HostTensor y = ReferenceInterpreter.run(g, z), want = f.expectedOutputs().getFirst();
        assertEquals(want.shape(), y.shape());
        assertTrue(y.relativeL2Error(want) < 1e-5, () -> "relative L2 error " + y.relativeL2Error(want));
    }

    @Test
    void outputPaddingGroupsAndDilationReachTheOp() {
        Module m = new ConvTranspose2d(4, 6, 3).stride(3).padding(1).outputPadding(2).dilation(2).groups(2).initialize(1);
        Graph g = Tracer.trace(m, 1, 4, 5, 6);
        assertEquals(Shape.of(1, 6, 17, 20), g.typeOf(g.outputs().getFirst()).shape());
        assertEquals(Shape.of(4, 3, 3, 3), m.namedParameters().get("weight").shape());
        assertEquals(List.of("conv_transpose2d"), g.nodes().stream().map(n -> n.op().mnemonic()).toList());
    }
}
