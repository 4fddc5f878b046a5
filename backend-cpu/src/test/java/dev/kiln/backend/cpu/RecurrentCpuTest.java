package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Gru;
import dev.kiln.ir.op.Lstm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GRU and bidirectional recurrences on the CPU: a 2-layer batch-first GRU from a given state into a
 * bidirectional GRU into a bidirectional LSTM, matching the reference, and allocating nothing per
 * call once C2 has compiled the kernels (the recurrent product goes through arena scratch, the
 * packed weights are made at compile time).
 */
class RecurrentCpuTest {
    private static OpCase stack() {
        OpCase.Builder c = new OpCase.Builder("rnn", 19, 0);
        int t = 7, b = 3, f = 10, h = 17;
        List<String> gru = new ArrayList<>(List.of(c.namedInput("x", 1f, b, t, f), c.namedInput("h0", 1f, 2, b, h)));
        for (int l = 0; l < 2; l++)
            gru.addAll(List.of(c.weight(0.3f, 3 * h, l == 0 ? f : h), c.weight(0.3f, 3 * h, h), c.weight(3 * h), c.weight(3 * h)));
        String y = c.add(new Gru(h, 2, true, true, false), gru);
        List<String> bi = new ArrayList<>(List.of(y));
        for (int d = 0; d < 2; d++) bi.addAll(List.of(c.weight(0.3f, 3 * h, h), c.weight(0.3f, 3 * h, h), c.weight(3 * h), c.weight(3 * h)));
        String z = c.add(new Gru(h, 1, true, false, true), bi);
        List<String> lstm = new ArrayList<>(List.of(z));
        for (int d = 0; d < 2; d++) lstm.addAll(List.of(c.weight(0.3f, 4 * h, 2 * h), c.weight(0.3f, 4 * h, h), c.weight(4 * h), c.weight(4 * h)));
        return c.build(c.add(new Lstm(h, 1, true, false, true), lstm));
    }

    @Test
    void stackedAndBidirectionalGruAndLstmMatchTheReferenceAndDoNotAllocatePerCall() {
        OpCase cs = stack();
        Graph g = cs.graph();
        Map<String, HostTensor> in = cs.draw(5);
        HostTensor want = ReferenceInterpreter.run(g, in).values().iterator().next();
        try (Executable exe = new CpuBackend().compile(g, Map.of("threads", "2"))) {
            Map<String, HostTensor> out = new LinkedHashMap<>();
            for (String o : g.outputs()) out.put(o, HostTensor.zeros(g.typeOf(o).shape()));
            exe.runInto(in, out);
            HostTensor got = out.values().iterator().next();
            assertTrue(got.relativeL2Error(want) < 1e-5, "relative L2 error " + got.relativeL2Error(want));
            long perCall = SteadyAllocation.bytesPerCall(exe, in, out, 200, 100, 0);
            assertEquals(0, perCall, "bytes allocated per call");
            assertTrue(out.values().iterator().next().relativeL2Error(want) < 1e-5, "still right after C2 compiled the kernels");
        }
    }
}
