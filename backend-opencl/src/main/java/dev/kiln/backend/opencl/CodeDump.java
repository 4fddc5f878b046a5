package dev.kiln.backend.opencl;

import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.KilnException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The "dump-code" option: one .cl file per kernel (standalone: the prelude and the kernel),
 * headed by the IR node it came from, its launch sizes and where each argument lives; and the
 * whole program as program.cl. Written before the build, so a kernel that fails to build can be read.
 */
final class CodeDump {
    private CodeDump() {}

    static void write(Path dir, DeviceContext device, DeviceLayout layout, List<Kernel> kernels, String program) {
        try {
            Files.createDirectories(dir);
            for (Kernel k : kernels) {
                StringBuilder b = new StringBuilder();
                b.append("// Kiln OpenCL kernel ").append(k.name()).append('\n');
                b.append("// IR node: ").append(Code.comment(IrPrinter.node(k.node()))).append('\n');
                b.append("// device: ").append(Code.comment(device.info().describe())).append('\n');
                b.append("// launch: global ").append(Arrays.toString(k.global())).append(", local ").append(Arrays.toString(k.local()))
                        .append(k.isEmpty() ? " (not launched: empty result or alias)" : "").append('\n');
                for (int a = 0; a < k.args().size(); a++) {
                    String arg = k.args().get(a);
                    if (arg.equals(Kernel.ERRORS)) { b.append("// err = this kernel's error words (a bad index)\n"); continue; }
                    b.append("// ").append(a == k.args().size() - 1 || k.args().get(a + 1).equals(Kernel.ERRORS) ? "out" : "in" + a).append(" = ")
                            .append(Code.comment(layout.describe(arg))).append('\n');
                }
                b.append(Code.PRELUDE).append('\n').append(k.source());
                Files.writeString(dir.resolve(k.name() + "-" + Code.identifier(k.node().name()) + ".cl"), b.toString());
            }
            Files.writeString(dir.resolve("program.cl"), "// Kiln OpenCL program for graph @" + Code.comment(layout.graph.name())
                    + " on " + Code.comment(device.info().describe()) + "\n" + program);
        } catch (IOException e) {
            throw new KilnException("cannot write the generated OpenCL kernels to " + dir + " (option dump-code): " + e.getMessage(), e);
        }
    }
}
