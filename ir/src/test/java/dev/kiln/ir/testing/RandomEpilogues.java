package dev.kiln.ir.testing;

import dev.kiln.ir.op.Epilogue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * Random epilogues for every generator in every module: up to three activations (total functions
 * only, since each one's input is a sum a few ulps off between backend and reference) with, when
 * the anchor may take an extra operand, an add and/or a mul of it at random places. So every valid
 * order the {@link Epilogue} constructor allows turns up, not just the old fixed one.
 */
public final class RandomEpilogues {
    private RandomEpilogues() {}

    /** {@code below.applyAsInt(n)} draws from [0, n); {@code extra}: whether it may join an extra operand. */
    public static Epilogue draw(IntUnaryOperator below, boolean extra) {
        List<Epilogue.PostOp> ops = new ArrayList<>();
        int acts = List.of(0, 1, 1, 2, 3).get(below.applyAsInt(5));
        for (int i = 0; i < acts; i++) ops.add(Epilogue.act(RandomActs.draw(below, false, true)));
        if (extra) {
            int join = below.applyAsInt(4);   // 0 none, 1 add, 2 mul, 3 both
            if ((join & 1) != 0) ops.add(below.applyAsInt(ops.size() + 1), Epilogue.ADD);
            if ((join & 2) != 0) ops.add(below.applyAsInt(ops.size() + 1), Epilogue.MUL);
        }
        return new Epilogue(ops);
    }
}
