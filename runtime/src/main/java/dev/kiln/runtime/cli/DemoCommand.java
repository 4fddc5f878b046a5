package dev.kiln.runtime.cli;

import dev.kiln.frontend.Tracer;
import dev.kiln.frontend.models.Examples;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Verifier;
import dev.kiln.passes.PassManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.List;

/** Kiln's main job on the built-in target models: trace, verify, show the IR, run the reference. */
@Command(name = "demo", description = "Trace the built-in target models, verify them, print their IR and run them on the reference interpreter.")
final class DemoCommand implements Runnable {
    @Spec CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "MODEL", description = "built-in models to run (default: all)")
    List<String> models;

    @Option(names = "--ir", negatable = true, defaultValue = "true", fallbackValue = "true", description = "print each model's IR (default: on)")
    boolean printIr;

    @Override public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<Examples.Example> examples = models == null || models.isEmpty() ? Examples.all() : models.stream().map(Examples::byName).toList();
        for (Examples.Example ex : examples) {
            long t0 = System.nanoTime();
            Graph g = Verifier.verify(Tracer.trace(ex.model().get(), "x", ex.inputShape()));
            long t1 = System.nanoTime();
            HostTensor x = HostTensor.normal(ex.inputShape(), 7);
            HostTensor y = ReferenceInterpreter.run(g, x);
            long t2 = System.nanoTime();
            PassManager.Result opt = PassManager.defaults().run(g);
            HostTensor yo = ReferenceInterpreter.run(opt.graph(), x);
            out.printf("== %s: %s%n", ex.name(), ex.description());
            out.printf("   input %s -> output %s, %d nodes, %d weights (%,d parameters)%n", ex.inputShape(), y.shape(),
                    g.nodes().size(), g.constants().size(), g.constants().values().stream().mapToLong(t -> t.shape().size()).sum());
            out.printf("   traced+verified in %.1f ms, reference interpreter ran in %.1f ms; output[0..3] = %s%n",
                    (t1 - t0) / 1e6, (t2 - t1) / 1e6, head(y));
            out.printf("   optimised: %d -> %d nodes; reference before vs after passes: rel. L2 error %.2e%n",
                    g.nodes().size(), opt.graph().nodes().size(), yo.relativeL2Error(y));
            out.print(opt.report().toString().indent(3));
            out.print(opt.memoryPlan().toString().lines().findFirst().orElse("").indent(3));
            if (printIr) out.print(IrPrinter.print(opt.graph()).indent(3));
            out.flush();
        }
    }

    private static String head(HostTensor t) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < Math.min(4, t.size()); i++) b.append(i > 0 ? ", " : "").append(String.format("%.5f", t.data()[i]));
        return b.append(t.size() > 4 ? ", ...]" : "]").toString();
    }
}
