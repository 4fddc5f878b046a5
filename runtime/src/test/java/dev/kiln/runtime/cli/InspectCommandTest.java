package dev.kiln.runtime.cli;

import dev.kiln.runtime.Artifact;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {
    @TempDir Path dir;

    private Path compile(String... extra) {
        Path file = dir.resolve("m.kiln");
        String[] args = {"compile", "mobilenet", "-o", file.toString(), "--input-shape", "x=1x16x8x8"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        Cli.run(all).expect(0);
        return file;
    }

    @Test
    void showsSignatureFusionReportMemoryPlanAndIr() {
        Path file = compile();
        String out = Cli.run("inspect", file.toString()).expect(0).out();
        assertTrue(out.contains("format 1, written by Kiln 0.1.0, target cpu"), out);
        assertTrue(out.contains("signature (x: f32[1,16,8,8]) -> (t17: f32[1,64,4,4])"), out);
        assertTrue(out.contains("fusion report:") && out.contains("fuse-depthwise-pointwise") && out.contains("15 fusions, 2 refused"), out);
        assertTrue(out.contains("memory plan: arena"), out);
        assertTrue(out.contains("optimised IR:\n  graph @MobileNetStack(%x: f32[1,16,8,8]) {"), out);
        assertTrue(out.contains("= fused_dw_pw_conv("), out);
    }

    @Test
    void writesTheOptimisedGraphForGraphviz() throws IOException {
        Path file = compile();
        Path dot = dir.resolve("g.dot");
        String out = Cli.run("inspect", file.toString(), "--dot", dot.toString()).expect(0).out();
        assertTrue(out.contains("wrote the graph to " + dot), out);
        String g = Files.readString(dot);
        assertTrue(g.startsWith("digraph \"MobileNetStack\" {"), g);
        assertTrue(g.contains("\"in:x\" -> \"n:t5\";") && g.contains("\"n:t17\" -> \"out:t17\";"), g);
        assertTrue(g.contains("label=\"fused_dw_pw_conv\\n%t5: f32[1,32,8,8]\\nblock1.bn2\\n+4 weights\""), g);
        assertTrue(g.strip().endsWith("}"), g);
    }

    @Test
    void inspectsAnOpenClArtifactWithoutNeedingOpenCl() {
        // An OpenCL artifact made without OpenCL: the graph is the same, only the manifest's target differs.
        Artifact cpu = Artifact.read(compile());
        Path file = dir.resolve("cl.kiln");
        Artifact.of(cpu.graph(), cpu.fusionReport(), "opencl").write(file);
        assertTrue(Cli.run(Cli.withoutOpenCl(), "inspect", file.toString()).expect(0).out().contains("target opencl"));
    }

    @Test
    void refusesADamagedArtifact() throws IOException {
        Path file = compile();
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - 10));
        Cli.Result r = Cli.run("inspect", file.toString()).expect(1);
        assertTrue(r.err().startsWith("kiln: error: " + file + ": truncated"), r.err());
        assertTrue(Cli.run("inspect").expect(2).err().contains("Missing required parameter: 'MODEL.kiln'"));
    }
}
