package dev.kiln.backend.opencl;

import dev.kiln.ir.op.Pad;

/**
 * Pad, one work-item per result element: each padded axis maps its index to the operand's
 * (mirrored for REFLECT, clamped for EDGE; for CONSTANT an out-of-range index on any axis selects
 * the value instead). Axes without pads read straight through.
 */
final class PadKernels {
    private PadKernels() {}

    static Kernel pad(KernelRequest r, Pad pad) {
        View x = r.in(0);
        return MapKernels.map(r, (b, idx, p) -> {
            String[] src = new String[idx.length];
            StringBuilder inside = new StringBuilder();
            for (int a = 0; a < idx.length; a++) {
                int begin = pad.begin(a), n = x.dim(a);
                if (begin == 0 && pad.end(a) == 0) { src[a] = idx[a]; continue; }
                String i = "s" + a;
                b.append("    const int ").append(i).append(" = ").append(idx[a]).append(" - ").append(begin).append(";\n");
                src[a] = switch (pad.mode()) {
                    case CONSTANT -> {
                        if (!inside.isEmpty()) inside.append(" && ");
                        inside.append(i).append(" >= 0 && ").append(i).append(" < ").append(n);
                        yield i;
                    }
                    case EDGE -> "clamp(" + i + ", 0, " + (n - 1) + ")";
                    case REFLECT -> "(" + i + " < 0 ? -" + i + " : " + i + " >= " + n + " ? " + (2 * (n - 1)) + " - " + i + " : " + i + ")";
                };
            }
            String read = x.at(src);
            return inside.isEmpty() ? read : "(" + inside + ") ? " + read + " : " + Code.lit(pad.value());
        });
    }
}
