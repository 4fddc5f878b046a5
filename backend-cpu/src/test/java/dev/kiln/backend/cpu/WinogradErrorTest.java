package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.Shape;
import dev.kiln.ir.op.Conv2d;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Winograd's rounding error against the reference as the reduction grows, beside direct
 * convolution's: C = 16…512 input channels into 16, 3×3 pad 1 on 10×10 (edge tiles included),
 * inputs N(0,1), weights N(0, 1/(9C)) (He-like, so outputs stay O(1) whatever C). Prints each
 * relative L2 error and the largest absolute error over the reference's RMS, and holds
 * Winograd to the property suites' 1e-5 relative L2 with room to spare (a third of it).
 */
class WinogradErrorTest {
    @Test void winogradErrorStaysWellInsideTheToleranceUpTo512Channels() {
        for (int ch : new int[]{16, 64, 128, 256, 512}) {
            OpCase.Builder c = new OpCase.Builder("winograd error", 17 + ch, 0);
            String x = c.namedInput("x", 1f, 1, ch, 10, 10);
            String y = c.add(Conv2d.of(1, 1), x, c.weight((float) (1 / Math.sqrt(9 * ch)), 16, ch, 3, 3), c.weight(16));
            Graph g = c.build(y).graph();
            double worst = 0;
            StringBuilder line = new StringBuilder("C=" + ch);
            for (String mode : List.of("direct", "winograd")) {
                double l2 = 0, maxRel = 0;
                for (long seed = 1; seed <= 3; seed++) {
                    Map<String, HostTensor> in = Map.of("x", HostTensor.normal(Shape.of(1, ch, 10, 10), seed));
                    HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
                    try (Executable exe = new CpuBackend().compile(g, Map.of("conv", mode, "threads", "1"))) {
                        HostTensor got = exe.run(in).values().iterator().next();
                        l2 = Math.max(l2, got.relativeL2Error(want));
                        maxRel = Math.max(maxRel, maxAbsError(got, want) / rms(want));
                    }
                }
                line.append(String.format("  %s: rel L2 %.2e, max|err|/rms %.2e", mode, l2, maxRel));
                if (mode.equals("winograd")) worst = l2;
            }
            System.out.println("winograd error: " + line);
            assertTrue(worst < CpuOpsProperties.REL_L2 / 3, line.toString());
        }
    }

    private static double maxAbsError(HostTensor a, HostTensor b) {
        double m = 0;
        for (int i = 0; i < a.size(); i++) m = Math.max(m, Math.abs((double) a.data()[i] - b.data()[i]));
        return m;
    }

    private static double rms(HostTensor t) {
        double s = 0;
        for (float v : t.data()) s += (double) v * v;
        return Math.sqrt(s / t.size());
    }
}
