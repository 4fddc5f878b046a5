package dev.kiln.ir.testing;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.Unary;

import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * Random activations for every generator in every module, drawn from {@link Unary.Kind} itself:
 * a kind added to ir is in every random graph at once, with parameters it is exported with.
 */
public final class RandomActs {
    private RandomActs() {}

    /**
     * A random activation; {@code below.applyAsInt(n)} draws from [0, n). {@code anyInput}: the
     * value it applies to may be a few ulps off between backend and reference (the output of a
     * sum), so only {@link Unary.Kind#total total} functions; else (an exact input) any.
     */
    public static Act draw(IntUnaryOperator below, boolean withNone, boolean anyInput) {
        return cycle(below.applyAsInt(1 << 20), below, withNone, anyInput);
    }

    /**
     * The index-th (cyclically) of the kinds allowed, with random parameters: successive indices
     * cover every kind, for example-based suites that must meet each one.
     */
    public static Act cycle(int index, IntUnaryOperator below, boolean withNone, boolean anyInput) {
        List<Unary.Kind> kinds = java.util.Arrays.stream(Unary.Kind.values())
                .filter(k -> (withNone || k != Unary.Kind.NONE) && (!anyInput || k.total(2))).toList();
        Unary.Kind k = kinds.get(Math.floorMod(index, kinds.size()));
        while (true) {
            Act a = withParams(k, below);
            if (!anyInput || k.total(a.a())) return a;
        }
    }

    /** The kind with parameters PyTorch exports or users pick. */
    public static Act withParams(Unary.Kind k, IntUnaryOperator below) {
        return switch (k) {
            case LEAKY_RELU -> Act.of(k, pick(below, 0.01f, 0.2f, -0.5f));
            case CLIP -> List.of(Act.clip(0, 6), Act.clip(-1, 1), Act.clip(Float.NEGATIVE_INFINITY, 0.5f), Act.clip(0.25f, 0.25f))
                    .get(below.applyAsInt(4));
            case HARD_SIGMOID -> below.applyAsInt(2) == 0 ? Act.of(k, 1f / 6, 0.5f) : Act.of(k, 0.2f, 0.5f);
            case ELU -> Act.of(k, pick(below, 1f, 0.5f));
            case SELU -> Act.of(k, 1.67326319217681884765625f, 1.05070102214813232421875f);
            case POW -> Act.of(k, pick(below, 2f, 3f, 4f, 0.5f, -0.5f, -1f, 0f, 1.5f, -2f));
            default -> Act.of(k);
        };
    }

    private static float pick(IntUnaryOperator below, float... v) { return v[below.applyAsInt(v.length)]; }
}
