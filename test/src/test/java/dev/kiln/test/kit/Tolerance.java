package dev.kiln.test.kit;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Node;
import dev.kiln.ir.ReferenceInterpreter;
import dev.kiln.ir.op.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What a graph's outputs should be, and how far a result may stray from them.
 *
 * <p>The expected values come from {@link ReferenceInterpreter}. The allowed error cannot be one
 * fixed number for random graphs: a chain that subtracts nearly equal values, divides by a
 * small one or feeds large logits to a softmax amplifies the few ulps every f32 kernel loses,
 * while most chains do not. So each case's tolerance is measured on the case: the reference is
 * run {@value #NOISY_RUNS} more times with noise of the size f32 rounding makes, injected at
 * every op (u uniform in [−1, 1], fresh for each element):
 * <ul>
 *   <li>ops that sum many terms (convolutions, linear, matmul, batch norm, softmax, average
 *       pooling, LSTM, fused ops): each operand element times (1 + u·{@link #DELTA}), and the
 *       result plus u·{@link #ETA}·(|result_i| + rms(result)). An f32 dot product is the exact one
 *       of operands off by a few ulps (DELTA ≈ 4 ulps), which is what makes cancelling sums
 *       uncertain; ETA covers the final roundings;</li>
 *   <li>element-wise ops (unary, binary, scale, max pooling): the result plus u·ETA·|result_i|;
 *       their operands carry the noise of the ops that made them;</li>
 *   <li>activations whose f32 error is absolute ({@link Unary.Kind#absoluteError}: GELU's erf
 *       approximation, ELU's eˣ − 1, ...), alone or fused, also add u·ETA·max(1, |x_i|), x their
 *       argument: in GELU's negative tail or ELU near 0 that error is far larger than the result;</li>
 *   <li>recurrent ops (LSTM, GRU) also perturb their state after every step (see {@link #perturbState});</li>
 *   <li>movement (reshape, transpose, slice, concat): nothing; it must be exact.</li>
 * </ul>
 * The first noisy run also sets every result within its noise of zero to zero: a kernel may
 * round it there (GELU(−6) is −5.9e-9 but 0 in f32 with erf, as PyTorch has it), and a division
 * by it then gives NaN or ∞ where the reference is finite.
 * How far the noisy outputs move is how sensitive this graph is here. Element i may differ by
 * <pre>
 *   slack_i = ATOL + RTOL·|ref_i| + K·(dev_i + rms(dev))      dev_i = max over noisy runs |noisy_i − ref_i|
 * </pre>
 * with K = {@value #K} (margin over a random estimate; rms(dev) covers elements whose noise
 * happened to cancel), RTOL = {@value #RTOL} and ATOL = {@value #ATOL} (flushed subnormals).
 * A real slip (a wrong index, a lost bias, the wrong activation) is off by about the value
 * itself, orders beyond this. Non-finite results must match exactly: NaN where the reference
 * has NaN, ∞ of the same sign. (+0 and −0 compare equal; where a zero's sign matters, as in 1/x,
 * the ∞ that follows is checked.) An element whose noisy runs disagree with the reference about
 * being finite sits on an overflow edge and is not judged. A case whose values (inputs,
 * constants or intermediates) exceed {@value #LIMIT} in magnitude is discarded: beyond it an f32
 * kernel may overflow inside a sum that the double-precision reference does not.
 */
public final class Tolerance {
    private Tolerance() {}

    public static final double DELTA = 0x1p-21, ETA = 0x1p-21, K = 8, RTOL = 1e-5, ATOL = 1e-30, LIMIT = 1e15;
    public static final int NOISY_RUNS = 2;

    /** The largest error seen in a passing comparison, as a fraction of its allowed error (reset by each property run). */
    static double worstUse;
    /** Samples of slack / max(|reference_i|, rms(reference)): how loose the bound is, relative to the output's scale. */
    static final List<Double> looseness = new ArrayList<>();

    /** Reference outputs and per-element slack (NaN: not judged). */
    public record Expected(Map<String, HostTensor> reference, Map<String, double[]> slack) {

        /** Why got differs from the reference beyond factor × slack, or null when it agrees. */
        public Failure check(Map<String, HostTensor> got, String label, double factor) {
            return compare(reference, "reference", got, label, factor);
        }

        /** Why b differs from a (two results of the same graph) beyond factor × slack, or null. */
        public Failure compare(Map<String, HostTensor> a, String aLabel, Map<String, HostTensor> b, String bLabel, double factor) {
            for (String out : reference.keySet()) {
                HostTensor x = a.get(out), y = b.get(out);
                if (y == null) return new Failure("shape", bLabel + " has no output %" + out, outputs(a, aLabel, b, bLabel));
                if (!x.shape().equals(y.shape()))
                    return new Failure("shape", "output %" + out + " has shape " + y.shape() + " in " + bLabel + ", " + x.shape() + " in " + aLabel,
                            outputs(a, aLabel, b, bLabel));
                double[] s = slack.get(out);
                int bad = 0, first = -1;
                boolean nonFinite = false;
                double worst = 0;
                for (int i = 0; i < s.length; i++) {
                    if (Double.isNaN(s[i])) continue;
                    float u = x.data()[i], v = y.data()[i];
                    boolean ok;
                    if (!Float.isFinite(u) || !Float.isFinite(v)) {
                        ok = Float.compare(u, v) == 0 || (Float.isNaN(u) && Float.isNaN(v));
                        if (!ok) nonFinite = true;
                    } else {
                        double excess = Math.abs((double) u - v) / (factor * s[i]);
                        ok = excess <= 1;
                        worst = Math.max(worst, excess);
                    }
                    if (!ok && bad++ == 0) first = i;
                }
                if (bad == 0) {
                    worstUse = Math.max(worstUse, worst);
                    HostTensor ref = reference.get(out);
                    double scale = rms(ref);
                    for (int i = 0; i < s.length && looseness.size() < 1_000_000; i += 1 + s.length / 16)
                        if (!Double.isNaN(s[i]) && Float.isFinite(ref.data()[i]) && scale > 0)
                            looseness.add(factor * s[i] / Math.max(Math.abs(ref.data()[i]), scale));
                }
                if (bad > 0) {
                    String where = "output %" + out + " element " + first + " " + Arrays.toString(unravel(first, x.shape().dims()))
                            + ": " + bLabel + " " + y.data()[first] + ", " + aLabel + " " + x.data()[first]
                            + (Float.isFinite(x.data()[first]) && Float.isFinite(y.data()[first]) ? String.format(" (allowed ±%.3g)", factor * s[first]) : "");
                    String summary = where + "; " + bad + " of " + s.length + " elements out of bounds"
                            + (worst > 1 ? String.format(", worst %.3g× the allowed error", worst) : "");
                    return new Failure(nonFinite ? "non-finite" : "values", summary, outputs(a, aLabel, b, bLabel));
                }
            }
            return null;
        }
    }

    /** The reference outputs and slack for this case; throws {@link Discard} when it is beyond {@link #LIMIT}. */
    public static Expected expect(Case c) {
        Graph g = c.graph();
        Map<String, HostTensor> exact = evaluate(g, c.inputs(), null, false);
        for (var e : exact.entrySet())
            for (float v : e.getValue().data())
                if (Float.isFinite(v) && Math.abs(v) > LIMIT)
                    throw new Discard("%" + e.getKey() + " reaches " + v + ", beyond " + LIMIT);
        Map<String, HostTensor> ref = ReferenceInterpreter.run(g, c.inputs());
        List<Map<String, HostTensor>> noisy = new ArrayList<>();
        for (int j = 0; j < NOISY_RUNS; j++) noisy.add(evaluate(g, c.inputs(), new SplittableRandom(0x9E3779B97F4A7C15L * (j + 1)), j == 0));
        Map<String, double[]> slack = new LinkedHashMap<>();
        for (var e : ref.entrySet()) {
            float[] r = e.getValue().data();
            double[] dev = new double[r.length];
            double sum = 0;
            int finite = 0;
            for (int i = 0; i < r.length; i++) {
                for (Map<String, HostTensor> n : noisy) {
                    float v = n.get(e.getKey()).data()[i];
                    if (Float.isFinite(v) != Float.isFinite(r[i]) || (!Float.isFinite(v) && Float.compare(v, r[i]) != 0 && !(Float.isNaN(v) && Float.isNaN(r[i])))) {
                        dev[i] = Double.NaN;
                        break;
                    }
                    if (Float.isFinite(v)) dev[i] = Math.max(dev[i], Math.abs((double) v - r[i]));
                }
                if (Float.isFinite(r[i]) && !Double.isNaN(dev[i])) { sum += dev[i] * dev[i]; finite++; }
            }
            double rms = finite == 0 ? 0 : Math.sqrt(sum / finite);
            double[] s = new double[r.length];
            for (int i = 0; i < r.length; i++)
                s[i] = Double.isNaN(dev[i]) ? Double.NaN : !Float.isFinite(r[i]) ? 0 : ATOL + RTOL * Math.abs(r[i]) + K * (dev[i] + rms);
            slack.put(e.getKey(), s);
        }
        return new Expected(ref, slack);
    }

    record Snapshot(double worst, int samples) {}

    static Snapshot snapshot() { return new Snapshot(worstUse, looseness.size()); }

    /** Forgets what was recorded since the snapshot. */
    static void rollback(Snapshot s) {
        worstUse = s.worst();
        while (looseness.size() > s.samples()) looseness.removeLast();
    }

    /** "worst error 3% of allowed; allowed error median 2e-6 relative", and resets the statistics. */
    static String usage() {
        if (looseness.isEmpty() && worstUse == 0) return "";
        double[] l = looseness.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        String s = String.format("; worst error %.0f%% of allowed, allowed error relative to the output's scale: median %.1g, 90th percentile %.1g",
                100 * worstUse, l.length == 0 ? 0 : l[l.length / 2], l.length == 0 ? 0 : l[(int) (l.length * 0.9)]);
        worstUse = 0;
        looseness.clear();
        return s;
    }

    /**
     * A recurrent cell's state after a step, off by what an f32 cell's rounding leaves in it: its gates
     * are in [0, 1] with absolute errors of a few ulps of 1, so h and c carry an absolute error
     * about ETA·(1 + |value|) whatever their size (a GRU's (1 − z)·n with z within ulps of 1 is all
     * rounding), which a later layer or step with large weights amplifies.
     */
    private static void perturbState(double[] state, SplittableRandom noise) {
        for (int i = 0; i < state.length; i++)
            if (Double.isFinite(state[i])) state[i] += ETA * (1 + Math.abs(state[i])) * (2 * noise.nextDouble() - 1);
    }

    /** Every value of the case (inputs, constants, nodes) by name, as the reference computes it. */
    public static Map<String, HostTensor> values(Case c) { return evaluate(c.graph(), c.inputs(), null, false); }

    /** Every value of the graph (inputs, constants, nodes) by the ops' reference semantics; with noise as described above. */
    static Map<String, HostTensor> evaluate(Graph g, Map<String, HostTensor> inputs, SplittableRandom noise, boolean snap) {
        Map<String, HostTensor> env = new HashMap<>(inputs);
        for (String k : g.constants().keySet()) env.put(k, g.weight(k));
        Map<String, HostTensor> out = new LinkedHashMap<>(env);
        for (Node n : g.nodes()) {
            OpPattern pattern = OpPattern.of(n.op());
            List<HostTensor> args = new ArrayList<>();
            for (String i : n.inputs()) args.add(noise != null && pattern == OpPattern.REDUCTION ? perturbed(env.get(i), noise) : env.get(i));
            // indices are integers every backend computes exactly (small integers in f32): the noise must not move them off
            if (noise != null && n.op() instanceof dev.kiln.ir.op.Gather) args.set(1, rounded(args.get(1)));
            // log(Σx) is noised before its log: a sum that cancels to within rounding of 0 is snapped there, so its log is
            // −∞ in a noisy run, and whether a kernel gives −∞ or NaN (log of a tiny negative) is rounding's choice
            Op op = noise != null && n.op() instanceof Reduce red && red.kind() == Reduce.Kind.LOG_SUM
                    ? new Reduce(Reduce.Kind.SUM, red.axes(), red.keepDims()) : n.op();
            HostTensor r = noise != null && op instanceof Recurrent cell
                    ? cell.evaluate(args, state -> perturbState(state, noise)) : op.evaluate(args);
            if (noise != null && pattern != OpPattern.INJECTIVE) {
                double rms = pattern == OpPattern.REDUCTION ? rms(r) : 0;
                boolean absolute = op instanceof Unary u && u.kind().absoluteError();
                Op preActivation = withoutAbsoluteErrorActivation(op);
                float[] d = r.data().clone(), x = preActivation != null ? preActivation.evaluate(args).data() : args.getFirst().data();
                absolute |= preActivation != null;
                for (int i = 0; i < d.length; i++) {
                    double amplitude = ETA * (Math.abs(d[i]) + rms + (absolute && Float.isFinite(x[i]) ? Math.max(1, Math.abs(x[i])) : 0));
                    if (!Float.isFinite(d[i])) continue;
                    if (snap && Math.abs(d[i]) <= amplitude) d[i] = Math.copySign(0f, d[i]);
                    else d[i] += (float) (amplitude * (2 * noise.nextDouble() - 1));
                }
                r = HostTensor.of(r.shape(), d);
            }
            if (op != n.op()) {
                // a sum within an f32 sum's rounding (DELTA·Σ|x|) of 0 is 0 in the first noisy run
                float[] d = r.data().clone(), l1 = new Reduce(Reduce.Kind.L1, ((Reduce) op).axes(), ((Reduce) op).keepDims()).evaluate(args).data();
                for (int i = 0; i < d.length; i++) d[i] = (float) Math.log(snap && Math.abs(d[i]) <= DELTA * l1[i] ? 0 : d[i]);
                r = HostTensor.of(r.shape(), d);
            }
            env.put(n.name(), r);
            out.put(n.name(), r);
        }
        if (noise == null) return out;
        Map<String, HostTensor> outputs = new LinkedHashMap<>();
        for (String o : g.outputs()) outputs.put(o, env.get(o));
        return outputs;
    }

    private static HostTensor rounded(HostTensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = (float) Math.rint(d[i]);
        return HostTensor.of(t.shape(), d);
    }

    /**
     * An epilogue anchor whose activations (or mid activation) include one with an absolute error
     * ({@link Unary.Kind#absoluteError}: GELU's erf, ELU's eˣ − 1, ...), with those activations
     * removed from its epilogue (null if it has none): its result is the argument x whose size sets that error,
     * which the result itself does not show where it is small (GELU's negative tail, ELU near 0).
     */
    private static Op withoutAbsoluteErrorActivation(Op op) {
        if (!(op instanceof EpilogueAnchor a)) return null;
        Epilogue e = a.epilogue();
        Epilogue kept = new Epilogue(e.ops().stream().filter(o -> !(o instanceof Epilogue.Activation x && loose(x.act()))).toList());
        Op out = kept.equals(e) ? op : a.withEpilogue(kept);
        if (out instanceof FusedDwPwConv f && loose(f.midAct()))
            out = new FusedDwPwConv(f.stride(), f.padding(), f.dilation(), Act.NONE, f.epilogue());
        if (out instanceof dev.kiln.ir.op.FusedExpandDwPwConv f && (loose(f.expandAct()) || loose(f.midAct())))
            out = new dev.kiln.ir.op.FusedExpandDwPwConv(f.stride(), f.padding(), f.dilation(),
                    loose(f.expandAct()) ? Act.NONE : f.expandAct(), loose(f.midAct()) ? Act.NONE : f.midAct(), f.epilogue());
        return out == op ? null : out;
    }

    private static boolean loose(Act a) { return a.kind().absoluteError(); }


    private static HostTensor perturbed(HostTensor t, SplittableRandom noise) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] *= (float) (1 + DELTA * (2 * noise.nextDouble() - 1));
        return HostTensor.of(t.shape(), d);
    }

    /** Root mean square over the finite elements. */
    static double rms(HostTensor t) {
        double s = 0;
        int n = 0;
        for (float v : t.data()) if (Float.isFinite(v)) { s += (double) v * v; n++; }
        return n == 0 ? 0 : Math.sqrt(s / n);
    }

    static int[] unravel(int p, int[] dims) {
        int[] idx = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) { idx[i] = dims[i] == 0 ? 0 : p % dims[i]; p = dims[i] == 0 ? 0 : p / dims[i]; }
        return idx;
    }

    /** Both sides' outputs, for a report (long tensors cut after 256 elements). */
    public static String outputs(Map<String, HostTensor> a, String aLabel, Map<String, HostTensor> b, String bLabel) {
        StringBuilder s = new StringBuilder();
        for (String o : a.keySet()) {
            s.append("  ").append(aLabel).append(" %").append(o).append(": ").append(show(a.get(o))).append('\n');
            s.append("  ").append(bLabel).append(" %").append(o).append(": ").append(b.containsKey(o) ? show(b.get(o)) : "(missing)").append('\n');
        }
        return s.toString();
    }

    public static String show(HostTensor t) {
        if (t.size() <= 256) return t.type() + " = " + Case.values(t);
        return t.type() + " = " + Case.values(HostTensor.of(Arrays.copyOf(t.data(), 256), 256)).replace("]", ", ...]");
    }
}
