package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Softmax;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dump-code option writes every kernel's source, headed by the IR node it came from. */
class CodeDumpTest {
    @TempDir Path dir;

    @Test
    void dumpsEveryKernelWithItsIrNodeAsStandaloneSource() throws Exception {
        TestGraph t = new TestGraph("dumped");
        String conv = t.op(Conv2d.of(1, 1), t.input(1, 2, 5, 5), t.weight(3, 2, 3, 3));
        Graph g = t.returning(t.op(new Softmax(1), conv));
        OpenClTesting.compile(g, Map.of("dump-code", dir.toString())).close();
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        assertEquals(List.of("k0_conv2d-t0.cl", "k1_softmax-t1.cl", "program.cl"), files.stream().map(p -> p.getFileName().toString()).toList());
        String conv0 = Files.readString(files.get(0));
        assertTrue(conv0.contains("// IR node: %t0: f32[1,3,5,5] = conv2d(%x0, %w1) {stride=[1,1], padding=[1,1,1,1]"), conv0);
        assertTrue(conv0.contains("// in0 = %x0 f32[1,2,5,5] in arena") && conv0.contains("halo [1, 1, 1, 1]"), conv0);
        assertTrue(conv0.contains("void k0_conv2d("), conv0);
        assertTrue(Files.readString(files.get(2)).contains("void k1_softmax("));
        // each file is a program of its own
        DeviceContext device = OpenClRuntime.context(DeviceSelector.select(OpenClRuntime.devices(), null));
        for (Path f : files.subList(0, 2)) ClObjects.release(device.programs().program(Files.readString(f), null));
    }
}
