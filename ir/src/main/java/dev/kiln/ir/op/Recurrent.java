package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;

import java.util.List;
import java.util.function.Consumer;

/**
 * An op whose reference runs a cell over time steps (LSTM, GRU). Its state after each step is
 * visible to a hook, so an error model can perturb it there: rounding inside a cell (a gate near
 * 1 that f32 cannot tell from 1) is invisible from the op's operands and result, yet a later layer
 * or step may amplify it.
 */
public interface Recurrent {
    /** The reference result, calling afterStep with each state vector (h, then c if the cell has one) after every step. */
    HostTensor evaluate(List<HostTensor> in, Consumer<double[]> afterStep);
}
