package dev.kiln.backend.cpu;

import dev.kiln.ir.Executable;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.MemoryPlan;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.Conv2d;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every op of ir, lowered by the CPU backend, matches the reference interpreter on seeded
 * random shapes (with 1, odd and prime sizes and sizes around one and two vector lengths),
 * on 1 and 2 threads. Each executable is called twice on different data, so the second call
 * runs on an arena that still holds the first call's values (stale halos would show).
 *
 * <p>Tolerances. Every result: relative L2 error ≤ 1e-5 over the finite elements, and the
 * same non-finite values (±∞, NaN) in the same places. The kernels accumulate in f32 where the
 * reference uses double; sums of up to a few hundred products stay well inside 1e-5. The
 * reference's norm is floored at an RMS of 0.1 per element ({@link #RMS_FLOOR}): inputs and
 * weights are O(1), so f32 rounding is bounded in absolute terms by the size of the operands,
 * and a result that comes out tiny (a few ReLU'd conv outputs that nearly cancel, or GELU's
 * negative tail, where the erf approximation's 1.5e-7 absolute error dominates) would
 * otherwise be judged against its own tiny norm (seen: 3 conv outputs of norm 4e-3 off by
 * 2.7e-7; gelu(−3.39) = −1.19e-3 off by 1.9e-7). A wrong element is still off by about its own
 * size, far beyond the 1e-6 RMS the floor allows.
 *
 * <p>Ops without long accumulations ({@code elementwise}: unary, scale, softmax, pooling,
 * movement, LSTM) must also agree element by element within |a−b| ≤ 1e-5 + 1e-4·|b|, so an
 * error in a few elements (a vector tail, a border) cannot hide in the L2 norm of a large
 * result. That bound holds for the transcendental functions the kernels use: exp and tanh are
 * the Vector API's ≤ 1-ulp intrinsics; sigmoid is 1/(1+exp(−x)) (≤ 2 ulp, flushed to 0 below
 * −100, where the reference is < 4e-44); GELU is off by ≤ 7.5e-8·|x| (its erf approximation by
 * ≤ 1.5e-7 absolute), far below atol wherever its output is small; softmax rounds x − max to
 * f32, a relative error ≤ |x − max|·6e-8 in an output, i.e. ≤ 1.4e-7 wherever that output
 * exceeds atol/rtol = 0.1; the LSTM's h and c are bounded by 1 and its gates sum a few dozen
 * f32 products, so its errors stay ≈ 1e-6.
 *
 * <p>{@code -Dkiln.tries=N} sets the number of cases per op (default 50); {@code -Dkiln.try=I}
 * replays only try I of each op (the failure message says which).
 */
class CpuOpsProperties {
    static final int TRIES = Integer.getInteger("kiln.tries", 50);
    static final Integer REPLAY = Integer.getInteger("kiln.try");
    static final double REL_L2 = 1e-5, RMS_FLOOR = 0.1, RTOL = 1e-4, ATOL = 1e-5;

    @Test void conv2dDenseGroupedDepthwiseStridedDilatedAsymmetricPadding() { property("conv2d", OpCases::conv2d, TRIES); }
    @Test void batchNorm() { property("batch_norm2d", OpCases::batchNorm, TRIES); }
    @Test void matMulWithBatchBroadcast() { property("mat_mul", OpCases::matMul, TRIES); }
    @Test void linear() { property("linear", OpCases::linear, TRIES); }
    @Test void binaryEachKindWithBroadcastingAndScalars() { property("binary", OpCases::binary, TRIES); }
    @Test void unaryEachKindIncludingLargeMagnitudes() { property("unary", OpCases::unary, TRIES); }
    @Test void scale() { property("scale", OpCases::scale, TRIES); }
    @Test void softmaxOnEachAxis() { property("softmax", OpCases::softmax, TRIES); }
    @Test void maxPool() { property("max_pool2d", OpCases::maxPool, TRIES); }
    @Test void avgPoolBothPaddingModes() { property("avg_pool2d", OpCases::avgPool, TRIES); }
    @Test void reduceEachKindOverAnyAxes() { property("reduce", OpCases::reduce, 2 * TRIES); }
    @Test void layerNormAnyAxisWithAndWithoutAffineAndLargeMeans() { property("layer_norm", OpCases::layerNorm, TRIES); }
    @Test void residualLayerNormAnyAxisWithAndWithoutAffineAndLargeMeans() { property("residual_layer_norm", OpCases::residualLayerNorm, TRIES); }
    @Test void reshape() { property("reshape", OpCases::reshape, TRIES); }
    @Test void transpose() { property("transpose", OpCases::transpose, TRIES); }
    @Test void concat() { property("concat", OpCases::concat, TRIES); }
    @Test void slice() { property("slice", OpCases::slice, TRIES); }
    @Test void lstmOneAndTwoLayersOrBidirectionalBothLayoutsWithAndWithoutInitialState() { property("lstm", OpCases::lstm, TRIES); }
    @Test void gruOneAndTwoLayersOrBidirectionalBothLayoutsWithAndWithoutInitialState() { property("gru", OpCases::gru, TRIES); }
    @Test void conv2dEpilogueEachActivationAndJoin() { property("conv2d epilogue", OpCases::fusedConv2d, TRIES); }
    @Test void conv2dWinogradEdgeTilesPaddingBatchesAndEpilogues() { property("conv2d winograd", OpCases::winogradConv2d, TRIES); }
    @Test void linearEpilogueEachActivationAndJoin() { property("linear epilogue", OpCases::fusedLinear, TRIES); }
    @Test void matMulEpilogueEachActivationAndJoin() { property("mat_mul epilogue", OpCases::matMulEpilogue, TRIES); }
    @Test void fusedDwPwConv() { property("fused_dw_pw_conv", OpCases::fusedDwPw, TRIES); }

    /** Each kind of op writing into a haloed buffer and each kind reading one: all 18 × 17 pairings at the default 50 tries. */
    @Test void haloedResultsAndOperands() {
        property("halo", c -> {
            OpCase cs = HaloCases.haloed(c);
            Graph g = cs.graph();
            MemoryPlan plan = MemoryPlan.plan(g);
            for (String v : HaloCases.paddedConvInputs(g)) {
                MemoryPlan.Slot s = plan.slots().get(v);
                assertTrue(g.outputs().contains(v) || s != null && s.halo()[0] + s.halo()[1] + s.halo()[2] + s.halo()[3] > 0,
                        "the test needs %" + v + " haloed:\n" + plan + IrPrinter.print(g));
            }
            return cs;
        }, 7 * TRIES);
    }

    @Test void haloedBufferReusingArenaBytesOfAnEarlierValue() {
        property("stale_arena", c -> {
            OpCase cs = HaloCases.staleArena(c);
            MemoryPlan plan = MemoryPlan.plan(cs.graph());
            MemoryPlan.Slot a = plan.slots().get(cs.graph().nodes().get(0).name()), v = plan.slots().get(cs.graph().nodes().get(2).name());
            assertTrue(v.halo()[0] + v.halo()[1] + v.halo()[2] + v.halo()[3] > 0, "the conv input must be haloed:\n" + plan);
            assertTrue(v.offset() < a.offset() + a.bytes() && a.offset() < v.offset() + v.bytes(),
                    "the test needs the haloed buffer over the first one's bytes:\n" + plan);
            return cs;
        }, TRIES);
    }

    static void property(String op, Function<OpCase.Builder, OpCase> generator, int tries) {
        long base = op.hashCode() * 1_000_003L;
        for (int i = 0; i < tries; i++) {
            if (REPLAY != null && REPLAY != i) continue;
            long seed = base + i;
            OpCase cs = generator.apply(new OpCase.Builder(op, seed, i));
            check(cs, op + " try " + i + " (seed " + seed + "; replay with -Dkiln.try=" + i + ")", seed);
        }
    }

    static void check(OpCase cs, String what, long seed) {
        Graph g = cs.graph();
        Map<String, HostTensor> first = cs.draw(seed * 31 + 7), second = cs.draw(seed * 31 + 1007);
        Map<String, HostTensor> want1 = ReferenceInterpreter.run(g, first), want2 = ReferenceInterpreter.run(g, second);
        // a graph with a conv is checked every way a dense conv lowers (direct kernel, im2col + GEMM, Winograd for 3×3 stride 1)
        boolean conv = g.nodes().stream().anyMatch(n -> n.op() instanceof Conv2d);
        for (String threads : new String[]{"1", "2"}) for (String mode : conv ? new String[]{"direct", "im2col", "winograd"} : new String[]{"auto"}) {
            String where = what + ", threads=" + threads + ", conv=" + mode;
            try (Executable exe = new CpuBackend().compile(g, Map.of("threads", threads, "conv", mode))) {
                compare(cs, exe.run(first), want1, where + ", first call");
                compare(cs, exe.run(second), want2, where + ", second call");
            } catch (AssertionError | org.opentest4j.TestAbortedException e) {
                throw e;
            } catch (RuntimeException | LinkageError e) {
                throw new AssertionError(where + ": " + e + "\n" + IrPrinter.print(g), e);
            }
        }
    }

    static void compare(OpCase cs, Map<String, HostTensor> got, Map<String, HostTensor> want, String where) {
        for (var e : want.entrySet()) {
            String problem = problem(got.get(e.getKey()), e.getValue(), cs.elementwise());
            if (problem != null) {
                String msg = where + ", output %" + e.getKey() + ": " + problem + "\n" + IrPrinter.print(cs.graph());
                System.err.println("FAILED " + msg);
                throw new AssertionError(msg);
            }
        }
    }

    /** Why got is not close enough to want, or null when it is. */
    static String problem(HostTensor got, HostTensor want, boolean elementwise) {
        if (!got.shape().equals(want.shape())) return "shape " + got.shape() + ", expected " + want.shape();
        float[] a = got.data(), b = want.data();
        double num = 0, den = 0, maxErr = 0;
        int worst = -1, badElement = -1;
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i]) || !Float.isFinite(b[i])) {
                if (Float.compare(a[i], b[i]) != 0)
                    return "element " + i + " is " + a[i] + ", expected " + b[i] + "; max abs error " + maxErrOf(a, b);
                continue;
            }
            double d = Math.abs((double) a[i] - b[i]);
            num += d * d;
            den += (double) b[i] * b[i];
            if (d > maxErr) { maxErr = d; worst = i; }
            if (badElement < 0 && d > ATOL + RTOL * Math.abs(b[i])) badElement = i;
        }
        double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), RMS_FLOOR * Math.sqrt(a.length));
        String stats = String.format("relative L2 error %.3g, max abs error %.3g", rel, maxErr)
                + (worst < 0 ? "" : " at element " + worst + " (got " + a[worst] + ", expected " + b[worst] + ")");
        if (rel > REL_L2) return stats + " exceeds " + REL_L2;
        if (elementwise && badElement >= 0)
            return "element " + badElement + " is " + a[badElement] + ", expected " + b[badElement] + " (beyond atol " + ATOL + " + rtol " + RTOL + "); " + stats;
        return null;
    }

    private static double maxErrOf(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) if (Float.isFinite(a[i]) && Float.isFinite(b[i])) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }
}
