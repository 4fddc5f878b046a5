package dev.kiln.runtime.cli;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.runtime.Artifact;
import dev.kiln.runtime.GraphDot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code kiln inspect OUT.kiln}: what an artifact holds, without compiling it (no backend needed). */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show a .kiln artifact's signature, fusion report, memory plan and IR.")
final class InspectCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.kiln", description = "the artifact")
    Path artifact;

    @Option(names = "--dot", paramLabel = "FILE", description = "also write the optimised graph for Graphviz")
    Path dot;

    @Override public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Artifact a = Artifact.read(artifact);
        long params = a.graph().weights().values().stream().mapToLong(HostTensor::size).sum();
        out.printf("artifact %s (%s): format %d, written by Kiln %s, target %s%n", artifact, MemoryPlan.bytes(Files.size(artifact)),
                a.formatVersion(), a.kilnVersion(), a.target());
        out.printf("signature %s%n", a.signature());
        if (a.hasSourceModel())
            out.printf("symbolic dimensions: %s (the signature is the primary specialisation; other shapes compile on first use"
                    + " from the ONNX model inside)%n", Artifact.describeSymbolic(a.declaredDims()));
        out.printf("graph @%s: %d nodes, %d weights (%,d parameters, %s)%n%n", a.graph().name(), a.graph().nodes().size(),
                a.graph().constants().size(), params, MemoryPlan.bytes(4 * params));
        out.println("fusion report:");
        out.print(a.fusionReport().indent(2));
        out.println();
        out.print(MemoryPlan.plan(a.graph()));
        out.println();
        out.println("optimised IR:");
        out.print(IrPrinter.print(a.graph()).indent(2));
        if (dot != null) {
            try {
                Files.writeString(dot, GraphDot.of(a.graph()));
            } catch (IOException e) {
                throw new KilnException("cannot write " + dot + ": " + e.getMessage(), e);
            }
            out.printf("%nwrote the graph to %s (render: dot -Tsvg %s -o graph.svg)%n", dot, dot);
        }
        return KilnCli.OK;
    }
}
