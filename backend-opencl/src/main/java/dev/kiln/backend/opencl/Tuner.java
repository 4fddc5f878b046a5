package dev.kiln.backend.opencl;

import dev.kiln.ir.Graph;
import dev.kiln.ir.KilnException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tuning on the device, kept small (in the spirit of tinygrad's BEAM search): for each distinct
 * GEMM problem of a graph, the CPU-device family's candidate tiles are built into one program
 * and timed on the device on random operands of the problem's shape and layout, within a time
 * budget; the fastest is kept in the {@link TuningCache}. A problem found in the cache costs
 * nothing. Only the CPU family has a tile space; other devices are left as they are.
 *
 * <p>The timed kernels read plain operands of the problem's layout; a convolution's gathered B
 * is timed as a plain matrix read lane by lane, which ranks the tiles as the gather would but
 * does not time the gather itself.
 */
final class Tuner {
    private Tuner() {}

    static final String FAMILY = "cpu-gemm-v1";

    /** -Dkiln.opencl.tune.trace=true prints every candidate's time. */
    private static final boolean TRACE = Boolean.getBoolean("kiln.opencl.tune.trace");

    /** What one tuning did: problems seen, found in the cache, measured, and the wall time it took. */
    record Report(int problems, int cacheHits, int measured, long millis) {
        @Override public String toString() {
            return "tuned " + problems + " GEMM problem" + (problems == 1 ? "" : "s") + ": " + cacheHits + " from the cache, "
                    + measured + " measured, " + millis + " ms";
        }
    }

    record Result(DeviceLimits limits, Report report) {}

    /**
     * @param budgetMillis the most one problem's search may take (the candidates' build included);
     *                     the defaults are always measured, so the result is never slower than them as timed
     */
    static Result tune(Graph g, DeviceContext device, DeviceLimits limits, Path cacheDir, long budgetMillis, PrintStream warnings) {
        long t0 = System.nanoTime();
        if (!GemmKernel.cpuFamily(limits)) return new Result(limits, new Report(0, 0, 0, 0));
        TunedTiles recording = TunedTiles.recording();
        Lowering.lower(new DeviceLayout(g), limits.withTuned(recording));
        TuningCache cache = TuningCache.open(cacheDir, warnings);
        String deviceKey = device.info().cacheKey();
        Map<String, CpuDeviceGemm.Params> chosen = new HashMap<>();
        int hits = 0, measured = 0;
        for (CpuDeviceGemm.Problem p : recording.asked()) {
            CpuDeviceGemm.Params t = cache.get(deviceKey, FAMILY, p);
            if (t != null) hits++;
            else {
                try {
                    Timed best = search(device, limits, p, budgetMillis);
                    t = best.params();
                    cache.put(deviceKey, FAMILY, p, t, best.micros());
                    measured++;
                } catch (KilnException | CLException e) {
                    // a device that cannot build or run a candidate still gets the defaults, which the compile builds as usual
                    warnings.println("kiln: warning: could not tune GEMM " + p.key() + " on " + device.info().describe() + " ("
                            + e.getMessage() + "); using the default tile");
                    continue;
                }
            }
            chosen.put(p.key(), t);
        }
        if (measured > 0) cache.save();
        Report r = new Report(recording.asked().size(), hits, measured, (System.nanoTime() - t0) / 1_000_000);
        return new Result(limits.withTuned(TunedTiles.of(chosen)), r);
    }

    record Timed(CpuDeviceGemm.Params params, double micros) {}

    /** Times the candidates for one problem (defaults first) until the budget runs out; the fastest wins. */
    static Timed search(DeviceContext device, DeviceLimits limits, CpuDeviceGemm.Problem p, long budgetMillis) {
        long deadline = System.nanoTime() + budgetMillis * 1_000_000;
        List<CpuDeviceGemm.Params> candidates = CpuDeviceGemm.candidates(p, limits);
        Operands ops = new Operands(p);
        List<CpuDeviceGemm.Launch> launches = new ArrayList<>();
        StringBuilder source = new StringBuilder(Code.PRELUDE);
        for (int i = 0; i < candidates.size(); i++) {
            KernelRequest r = new KernelRequest("tune" + i, null, List.of(ops.a, ops.b), ops.c, limits);
            CpuDeviceGemm.Launch l = CpuDeviceGemm.source(r, ops.shape, ops, ops.direct, candidates.get(i));
            launches.add(l);
            source.append(l.source());
        }
        cl_program program = device.programs().program(source.toString(), null);
        cl_mem[] buffers = new cl_mem[3];
        try {
            long[] sizes = {ops.a.size(), ops.b.size(), ops.c.size()};
            for (int i = 0; i < 3; i++) buffers[i] = ClObjects.buffer(device, CL.CL_MEM_READ_WRITE | (i < 2 ? CL.CL_MEM_COPY_HOST_PTR : 0),
                    sizes[i] * 4, i < 2 ? Pointer.to(random(sizes[i], i)) : null, "tuning operands");
            Timed best = null;
            for (int i = 0; i < candidates.size(); i++) {
                if (i > 0 && System.nanoTime() > deadline) break;
                double us = time(device, program, "tune" + i, launches.get(i), buffers, deadline, best == null ? Double.MAX_VALUE : best.micros());
                if (TRACE) System.err.printf("kiln: tune %s: %s %.1f µs (%.1f GFLOP/s)%n", p.key(), candidates.get(i), us,
                        2.0 * p.batches() * p.m() * p.n() * p.k() / us / 1e3);
                if (best == null || us < best.micros()) best = new Timed(candidates.get(i), us);
            }
            return best;
        } finally {
            for (cl_mem m : buffers) ClObjects.release(m);
            ClObjects.release(program);
        }
    }

    /** Median-free timing kept cheap: one warm-up launch, then the best of up to five (fewer when slow or out of time). */
    private static double time(DeviceContext device, cl_program program, String name, CpuDeviceGemm.Launch l, cl_mem[] buffers,
                               long deadline, double bestSoFar) {
        cl_kernel k = null;
        try {
            k = CL.clCreateKernel(program, name, null);
            ClObjects.created(ClObjects.Kind.KERNEL);
            for (int a = 0; a < 3; a++) CL.clSetKernelArg(k, a, Sizeof.cl_mem, Pointer.to(buffers[a]));
            run(device, k, l);
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                long t = System.nanoTime();
                run(device, k, l);
                best = Math.min(best, (System.nanoTime() - t) / 1e3);
                if (best > 1.5 * bestSoFar || System.nanoTime() > deadline) break;
            }
            return best;
        } catch (CLException e) {
            throw new KilnException("OpenCL tuning kernel " + name + " failed on " + device.info().describe() + ": " + e.getMessage(), e);
        } finally {
            ClObjects.release(k);
        }
    }

    private static void run(DeviceContext device, cl_kernel k, CpuDeviceGemm.Launch l) {
        CL.clEnqueueNDRangeKernel(device.queue(), k, 3, null, l.global(), l.local(), 0, null, null);
        CL.clFinish(device.queue());
    }

    private static float[] random(long n, long seed) {
        Random r = new Random(seed);
        float[] f = new float[(int) n];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        return f;
    }

    /** Plain operands laid out as the problem says: A [B,M,K], B [B,K,N] or [B,N,K], C [B,M,N]; a gathered B read lane by lane. */
    private static final class Operands implements GemmKernel.Operands {
        final GemmKernel.Shape shape;
        final View a, b, c;
        final CpuDeviceGemm.Direct direct;

        Operands(CpuDeviceGemm.Problem p) {
            shape = new GemmKernel.Shape(p.batches(), p.m(), p.n(), p.k());
            a = View.contiguous("in0", 0, new int[]{p.batches(), p.m(), p.k()});
            View bPlain = View.contiguous("in1", 0, new int[]{p.batches(), p.k(), p.n()});
            b = p.bAlongK() ? View.contiguous("in1", 0, new int[]{p.batches(), p.n(), p.k()}).swapLastTwo() : bPlain;
            c = View.contiguous("out", 0, new int[]{p.batches(), p.m(), p.n()});
            direct = new CpuDeviceGemm.Direct(p.aAlongK() ? a : null, p.bAlongN() || p.bAlongK() ? b : null);
        }

        @Override public String loadA() { return "v = " + a.at("b", "m", "k") + ";"; }
        @Override public String loadB() { return "v = " + b.at("b", "k", "n") + ";"; }
        @Override public String store(String value) { return c.at("b", "m", "n") + " = " + value + ";"; }
        @Override public boolean aAlongK() { return true; }
        @Override public boolean bAlongK() { return shape.k() > 0 && direct.b() != null && b.strides()[1] == 1; }
    }
}
