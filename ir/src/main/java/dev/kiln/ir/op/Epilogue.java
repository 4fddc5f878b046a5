package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.TensorType;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What an anchor op ({@link EpilogueAnchor}) does to each element of its result after the main
 * computation and its bias: an ordered list of post-ops, as oneDNN's post-ops. A post-op is an
 * activation ({@link Act}, any element-wise function with its parameters), or joining the op's
 * extra operand — its last, of the result's shape — by adding it (a residual) or multiplying by
 * it (a gate). The bias is not a post-op: it is an operand the anchor adds first.
 *
 * <p>Allowed lists: any sequence of activations, with at most one {@code add} and at most one
 * {@code mul} of the extra operand, in either order and anywhere in the list. There is one extra
 * operand, so a second add (or mul) would join the same tensor twice — no chain a model builds,
 * and not worth a second operand slot. {@link Act#NONE} is not a post-op (the identity is its
 * absence). The constructor enforces this, so an invalid epilogue can never reach a pass or a
 * backend.
 *
 * <p>A {@link Pool} may end the list, on a {@link Conv2d} only (the verifier refuses it elsewhere):
 * it changes the result's shape, so nothing follows it ({@link #accepts} says no to every
 * post-op after it) and no extra operand is joined before it (the extra has the result's shape).
 *
 * <p>In text IR: {@code epilogue=[add, relu, clip(0.0,6.0), mul]}; {@link #NONE} is {@code []}.
 */
public record Epilogue(List<PostOp> ops) {
    /** One step of an epilogue. */
    public sealed interface PostOp permits Activation, AddExtra, MulExtra, Pool {}

    /** Applies an element-wise function. */
    public record Activation(Act act) implements PostOp {
        public Activation {
            Objects.requireNonNull(act, "act");
            if (act.isNone()) throw new IllegalArgumentException("'none' is not a post-op: an epilogue without activations simply lists none");
        }
        @Override public String toString() { return act.toString(); }
    }

    /** Adds the extra operand (a residual connection). */
    public record AddExtra() implements PostOp {
        @Override public String toString() { return "add"; }
    }

    /** Multiplies by the extra operand (a gate). */
    public record MulExtra() implements PostOp {
        @Override public String toString() { return "mul"; }
    }

    public static final PostOp ADD = new AddExtra(), MUL = new MulExtra();

    /** Does nothing: what a plain conv, linear or matmul carries. */
    public static final Epilogue NONE = new Epilogue(List.of());

    public Epilogue {
        ops = List.copyOf(ops);
        int adds = 0, muls = 0;
        for (PostOp op : ops) {
            if (op instanceof AddExtra) adds++;
            if (op instanceof MulExtra) muls++;
        }
        if (adds > 1 || muls > 1)
            throw new IllegalArgumentException("epilogue " + text(ops) + " joins its extra operand by " + (adds > 1 ? "add" : "mul")
                    + " twice; allowed: any activations with at most one add and one mul of the extra operand");
        for (int i = 0; i < ops.size(); i++)
            if (ops.get(i) instanceof Pool && (i != ops.size() - 1 || adds + muls > 0))
                throw new IllegalArgumentException("epilogue " + text(ops) + ": a pool must be its last post-op, and it cannot pool a result joined with an extra operand");
    }

    public static PostOp act(Act a) { return new Activation(a); }

    public static Epilogue of(PostOp... ops) { return new Epilogue(List.of(ops)); }

    /** The epilogue of one activation, or {@link #NONE} for {@link Act#NONE}. */
    public static Epilogue of(Act a) { return a.isNone() ? NONE : of(act(a)); }

    /** This epilogue followed by op (refused as the constructor refuses). */
    public Epilogue then(PostOp op) {
        List<PostOp> l = new ArrayList<>(ops);
        l.add(op);
        return new Epilogue(l);
    }

    /** This epilogue followed by a; {@link Act#NONE} changes nothing. */
    public Epilogue then(Act a) { return a.isNone() ? this : then(act(a)); }

    /** Whether op could follow this epilogue (only a second add or mul of the extra cannot). */
    public boolean accepts(PostOp op) {
        return pool() == null && !(op instanceof AddExtra && ops.contains(ADD)) && !(op instanceof MulExtra && ops.contains(MUL));
    }

    public boolean isNone() { return ops.isEmpty(); }

    /** Whether it reads the extra operand, which is then the anchor's last operand. */
    public boolean hasExtra() { return ops.contains(ADD) || ops.contains(MUL); }

    /** Its trailing pool, or null. */
    public Pool pool() { return !ops.isEmpty() && ops.getLast() instanceof Pool p ? p : null; }

    /** The same post-ops without the trailing pool: what runs on each element before pooling. */
    public Epilogue withoutPool() { return pool() == null ? this : new Epilogue(ops.subList(0, ops.size() - 1)); }

    /** The anchor's result type t after this epilogue: pooled when it ends with a pool. */
    public TensorType outType(Op anchor, TensorType t) { return pool() == null ? t : pool().outType(anchor, t); }

    /** Its activations, in order. */
    public List<Act> activations() {
        return ops.stream().filter(o -> o instanceof Activation).map(o -> ((Activation) o).act()).toList();
    }

    // ---- reference semantics ----

    /**
     * The epilogue applied to t (already biased), rounding to f32 after each step as the unfused
     * chain of f32 tensors does: a fused op must mean exactly its chain (in double, σ(−614)·∞ = ∞,
     * but the chain rounds σ(−614) to 0 first and gives NaN). An activation also sees its input
     * rounded, since the chain's tensor before it is f32.
     */
    public double apply(double t, double extra) {
        for (PostOp op : ops) {
            t = switch (op) {
                case AddExtra a -> (float) (t + extra);
                case MulExtra m -> (float) (t * extra);
                case Activation a -> (float) a.act().apply((float) t);
                case Pool p -> throw new IllegalStateException("the pool of epilogue " + this + " is not element-wise: apply the epilogue to the whole tensor");
            };
        }
        return t;
    }

    /** The epilogue on every element of t; extra is null when it has none. */
    public HostTensor apply(HostTensor t, HostTensor extra) {
        Epilogue each = withoutPool();
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = (float) each.apply(d[i], extra == null ? 0 : extra.data()[i]);
        HostTensor r = HostTensor.of(t.shape(), d);
        return pool() == null ? r : pool().evaluate(r);
    }

    /** How many operands the extra adds (0 or 1). */
    int extraOperands() { return hasExtra() ? 1 : 0; }

    /** Checks that the last operand, when the epilogue reads one, has the result's type. */
    void checkExtra(Op op, List<TensorType> in, TensorType out) {
        if (hasExtra()) Checks.require(in.getLast().equals(out), op, "extra operand " + in.getLast() + " must match the result " + out);
    }

    // ---- for backends ----

    /** A step as a backend lowers it: a function, or the extra operand joined by ADD or MUL. */
    public sealed interface Stage permits Apply, Join {}

    /** Applies f, the composition of one or more consecutive activations. */
    public record Apply(ScalarExpr f) implements Stage {}

    /** Joins the extra operand: {@code ADD} or {@code MUL}. */
    public record Join(ScalarExpr.Fn2 fn) implements Stage {}

    /**
     * The epilogue with consecutive activations composed into one expression, so a backend emits
     * each run as one inline function (one Vector API sequence, one C expression). Between
     * composed activations no rounding is lost: the backends compute in f32 throughout.
     */
    public List<Stage> stages() {
        List<Stage> out = new ArrayList<>();
        ScalarExpr run = null;
        int fresh = 0;
        for (PostOp op : ops) {
            switch (op) {
                case Activation a -> run = run == null ? a.act().expr() : compose(a.act().expr(), run, "$e" + fresh++);
                case AddExtra x -> { if (run != null) out.add(new Apply(run)); run = null; out.add(new Join(ScalarExpr.Fn2.ADD)); }
                case MulExtra x -> { if (run != null) out.add(new Apply(run)); run = null; out.add(new Join(ScalarExpr.Fn2.MUL)); }
                case Pool p -> throw new IllegalStateException("epilogue " + this + " ends with a pool, which is not element-wise: a backend lowers withoutPool() and pools itself");
            }
        }
        if (run != null) out.add(new Apply(run));
        return out;
    }

    /** outer(inner(x)): inner bound once to a fresh name, which replaces x in outer. */
    private static ScalarExpr compose(ScalarExpr outer, ScalarExpr inner, String name) {
        return new ScalarExpr.Let(name, inner, substitute(outer, new ScalarExpr.Ref(name)));
    }

    private static ScalarExpr substitute(ScalarExpr e, ScalarExpr x) {
        return switch (e) {
            case ScalarExpr.X ignored -> x;
            case ScalarExpr.Const k -> k;
            case ScalarExpr.Ref r -> r;
            case ScalarExpr.Let l -> new ScalarExpr.Let(l.name(), substitute(l.value(), x), substitute(l.body(), x));
            case ScalarExpr.Apply1 a -> new ScalarExpr.Apply1(a.fn(), substitute(a.a(), x));
            case ScalarExpr.Apply2 a -> new ScalarExpr.Apply2(a.fn(), substitute(a.a(), x), substitute(a.b(), x));
            case ScalarExpr.Select s -> new ScalarExpr.Select(s.cmp(), substitute(s.a(), x), substitute(s.b(), x),
                    substitute(s.ifTrue(), x), substitute(s.ifFalse(), x));
        };
    }

    // ---- text ----

    @Override public String toString() { return text(ops); }

    private static String text(List<PostOp> ops) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ops.size(); i++) b.append(i > 0 ? ", " : "").append(ops.get(i));
        return b.append(']').toString();
    }

    /** Reads what {@link #toString} writes: {@code [add, relu, clip(0.0,6.0), mul]}. */
    public static Epilogue parse(String text) {
        String s = text.strip();
        if (!s.startsWith("[") || !s.endsWith("]")) throw new IllegalArgumentException("an epilogue is a bracketed list, got '" + s + "'");
        List<PostOp> ops = new ArrayList<>();
        String inner = s.substring(1, s.length() - 1);
        int depth = 0, from = 0;
        for (int i = 0; i <= inner.length(); i++) {
            char c = i < inner.length() ? inner.charAt(i) : ',';
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == ',' && depth == 0) {
                String item = inner.substring(from, i).strip();
                from = i + 1;
                if (item.isEmpty()) {
                    if (i == inner.length() && ops.isEmpty() && inner.isBlank()) break;
                    throw new IllegalArgumentException("empty post-op in '" + s + "'");
                }
                Pool pool = Pool.parse(item);
                ops.add(pool != null ? pool : switch (item) {
                    case "add" -> ADD;
                    case "mul" -> MUL;
                    default -> act(Act.parse(item));
                });
            }
        }
        return new Epilogue(ops);
    }
}
