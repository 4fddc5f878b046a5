package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import dev.kiln.ir.op.Binary;
import dev.kiln.ir.op.Unary;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites the self-gated products that models write out into the one activation they define:
 * <ul>
 *   <li>{@code x · sigmoid(x)} → {@code silu(x)}</li>
 *   <li>{@code x · hardsigmoid(x)} (slope 1/6, offset 1/2, as PyTorch's) → {@code hard_swish(x)}</li>
 *   <li>{@code x · tanh(softplus(x))} → {@code mish(x)}</li>
 * </ul>
 * each when the gate (and the softplus) has no other reader, so it goes with the product.
 * Why a pass: in the product x has two readers, the gate and the product, so a conv or linear
 * producing x cannot take the gate into its epilogue; after the rewrite x has one reader, an
 * activation, which {@link FuseEpilogues} (run after this) fuses. The ONNX importer recognises
 * the same forms in exported graphs; this catches graphs built in the DSL or the IR.
 */
public final class RecogniseSelfGated implements Pass {
    @Override public String name() { return "recognise-self-gated"; }

    @Override public Graph run(Graph g, PassContext ctx) {
        Map<String, Unary> activationAt = new HashMap<>();   // product node → the activation replacing it
        Map<String, String> argumentOf = new HashMap<>();    // product node → x
        Set<String> gone = new HashSet<>();                  // gates absorbed
        for (Node m : g.nodes()) {
            if (!(m.op() instanceof Binary b) || b.kind() != Binary.Kind.MUL || !m.type().equals(g.typeOf(m.inputs().get(0)))) continue;
            for (int k = 0; k < 2; k++) {
                String x = m.inputs().get(k);
                Node gate = soleReader(g, m.inputs().get(1 - k), m);
                Unary act = gate == null ? null : activation(g, gate, x, m);
                if (act == null || gone.contains(gate.name())) continue;
                activationAt.put(m.name(), act);
                argumentOf.put(m.name(), x);
                gone.add(gate.name());
                if (act.kind() == Unary.Kind.MISH) gone.add(gate.inputs().getFirst());
                break;
            }
        }
        if (activationAt.isEmpty()) return g;
        Rewrite r = new Rewrite(g);
        for (Node n : g.nodes()) {
            Unary act = activationAt.get(n.name());
            if (act != null) {
                r.emitAs(n, act, List.of(argumentOf.get(n.name())));
                // the report says so: it is why the producer of x then takes the activation into its epilogue
                ctx.fused(n, "mul(x, gate(x)) → " + act.act(), n.type().bytes());
            }
            else if (!gone.contains(n.name())) r.copy(n);
        }
        return r.finish();
    }

    /** The activation x · gate(x) is, or null when the gate is not one of x itself. */
    private static Unary activation(Graph g, Node gate, String x, Node product) {
        if (!(gate.op() instanceof Unary u)) return null;
        boolean ofX = gate.inputs().getFirst().equals(x);
        return switch (u.kind()) {
            case SIGMOID -> ofX ? Unary.of(Unary.Kind.SILU) : null;
            case HARD_SIGMOID -> ofX && Math.abs(u.act().a() - 1.0 / 6) < 1e-6 && u.act().b() == 0.5f ? Unary.of(Unary.Kind.HARD_SWISH) : null;
            case TANH -> {
                Node softplus = soleReader(g, gate.inputs().getFirst(), gate);
                yield softplus != null && softplus.op() instanceof Unary s && s.kind() == Unary.Kind.SOFTPLUS
                        && softplus.inputs().getFirst().equals(x) ? Unary.of(Unary.Kind.MISH) : null;
            }
            default -> null;
        };
    }

    /** The node producing value when its one use is reader (not a graph output); else null. */
    private static Node soleReader(Graph g, String value, Node reader) {
        Node p = g.producer(value);
        return p != null && g.useCount(value) == 1 && !g.outputs().contains(value) && g.consumers(value).getFirst() == reader ? p : null;
    }
}
