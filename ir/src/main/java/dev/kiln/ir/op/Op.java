package dev.kiln.ir.op;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.Ints;
import dev.kiln.ir.TensorType;

import java.util.List;

/**
 * An operation of the graph IR. Each op is one record that holds everything about it:
 * its attributes (the record components), its shape rule ({@link #inferType}) and its
 * reference semantics ({@link #evaluate}: plain loops, accumulation in double). Backends
 * and passes switch over this sealed interface without a default, so adding an op is a
 * compile error exactly where it must be handled.
 *
 * <p>Attributes may only be {@code int}, {@code float}, {@code boolean}, {@code String},
 * {@link Ints} (never an array), an enum, an {@link Act} or an {@link Epilogue}: the text IR
 * prints and parses them generically from the record, and every one of them compares by value,
 * so two ops are {@code equals} exactly when they have the same attributes (floats compare as
 * {@link Float#equals} does). Common-subexpression elimination relies on that.
 */
public sealed interface Op permits Conv2d, ConvTranspose2d, BatchNorm2d, MatMul, Linear, Binary, Unary, Scale, Softmax,
        MaxPool2d, AvgPool2d, Reduce, LayerNorm, Reshape, Transpose, Concat, Slice, Lstm, Gru,
        FusedDwPwConv, FusedExpandDwPwConv, FusedAttention, Where, Pad, Resize, ResidualLayerNorm,
        Gather, CumSum {

    /** The result type for these operand types, or a ShapeException saying what does not fit. */
    TensorType inferType(List<TensorType> inputs);

    /** Reference semantics: the oracle every backend and pass is judged against. */
    HostTensor evaluate(List<HostTensor> inputs);

    /** The op's name in text IR: the record's simple name in snake case (conv2d, max_pool2d, ...). */
    default String mnemonic() { return mnemonicOf(getClass()); }

    static String mnemonicOf(Class<?> opClass) {
        String n = opClass.getSimpleName();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) b.append('_');
                b.append(Character.toLowerCase(c));
            } else b.append(c);
        }
        return b.toString();
    }
}
