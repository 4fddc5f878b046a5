package dev.kiln.frontend;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.BatchNorm2d;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Linear;
import dev.kiln.ir.op.Lstm;
import dev.kiln.ir.op.MatMul;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Softmax;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Checks the ops' reference semantics ({@link Op#evaluate}) against values PyTorch computed
 * independently, never against Kiln itself. The fixtures under
 * {@code fixtures/reference/<case>/} are written by
 * {@code tools/fixtures/make_reference_fixtures.py}; each {@code case.txt} lists the
 * attributes PyTorch was called with, and every test checks that the op it builds uses the
 * same ones. A few tiny hand-computed cases at the end make sure the check does not rest on
 * PyTorch alone.
 */
class ReferenceMatchesPyTorchTest {
    /*
     * Tolerance: PyTorch computes in float32 (with its own summation order, vectorised
     * exp/erf/tanh and, for conv, possibly oneDNN), while Kiln's reference accumulates in
     * double and rounds once. The two differ by a few float32 ulps relative (~1e-7 each),
     * hence rtol 1e-5; atol 1e-6 covers results that cancel to near zero (conv and matmul
     * sums, the tails of sigmoid/GELU, softmax probabilities of ~1e-44), where a relative
     * bound means nothing.
     */
    private static final double RTOL = 1e-5, ATOL = 1e-6;

    // ---------------------------------------------------------------- helpers

    /** One fixture directory: its tensors by file name and the key=value lines of case.txt. */
    private record Case(String name, Path dir, Map<String, String> attrs) {
        HostTensor tensor(String file) {
            Path p = dir.resolve(file + ".npy");
            assertTrue(Files.isRegularFile(p), () -> "case " + name + " has no " + file + ".npy");
            return Npy.read(p);
        }

        /** Asserts that case.txt records each of the given "key=value" attributes. */
        void expectAttributes(String... keyValues) {
            for (String kv : keyValues) {
                int eq = kv.indexOf('=');
                String key = kv.substring(0, eq), value = kv.substring(eq + 1);
                assertEquals(value, attrs.get(key), () -> "case " + name + ": the test builds the op with " + kv
                        + " but case.txt says " + key + "=" + attrs.get(key));
            }
        }
    }

    private static Case load(String name) {
        String resource = "/fixtures/reference/" + name;
        URL url = ReferenceMatchesPyTorchTest.class.getResource(resource);
        assertNotNull(url, () -> "missing fixture " + resource + "; run tools/fixtures/make_reference_fixtures.py");
        try {
            Path dir = Path.of(url.toURI());
            Map<String, String> attrs = new LinkedHashMap<>();
            for (String line : Files.readAllLines(dir.resolve("case.txt"))) {
                if (line.isBlank()) continue;
                int eq = line.indexOf('=');
                assertTrue(eq > 0, () -> name + "/case.txt: not a key=value line: " + line);
                attrs.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
            return new Case(name, dir, attrs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Evaluates op on the named tensors of the case and compares with PyTorch's y.npy. */
    private static void assertMatchesPyTorch(Case c, Op op, String... operands) {
        List<HostTensor> in = new ArrayList<>();
        for (String o : operands) in.add(c.tensor(o));
        assertClose(c.name, op.evaluate(in), c.tensor("y"));
    }

    private static void assertClose(String what, HostTensor actual, HostTensor expected) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        if (actual.allClose(expected, RTOL, ATOL)) return;
        int worst = 0;
        double worstExcess = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < actual.size(); i++) {
            double a = actual.data()[i], b = expected.data()[i];
            double excess = Math.abs(a - b) - (ATOL + RTOL * Math.abs(b));
            if (Double.isNaN(a) != Double.isNaN(b)) excess = Double.POSITIVE_INFINITY;
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
        }
        int[] index = unravel(worst, expected.shape().dims());
        fail(what + ": Kiln's reference differs from PyTorch beyond rtol=" + RTOL + ", atol=" + ATOL
                + "; worst at " + Arrays.toString(index) + ": kiln " + actual.data()[worst]
                + ", pytorch " + expected.data()[worst] + " (max |diff| " + actual.maxAbsError(expected) + ")");
    }

    private static int[] unravel(int flat, int[] dims) {
        int[] idx = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
        return idx;
    }

    // ---------------------------------------------------------------- convolution

    @Test
    void convMatchesPyTorch() {
        Case c = load("conv2d_plain");
        c.expectAttributes("stride=1,1", "padding=1,1,1,1", "dilation=1,1", "groups=1", "bias=false");
        assertMatchesPyTorch(c, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1), "x", "weight");
    }

    @Test
    void stridedPaddedConvWithBiasMatchesPyTorch() {
        Case c = load("conv2d_stride2_pad1_bias");
        c.expectAttributes("stride=2,2", "padding=1,1,1,1", "dilation=1,1", "groups=1", "bias=true");
        assertMatchesPyTorch(c, new Conv2d(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1), "x", "weight", "bias");
    }

    @Test
    void groupedConvMatchesPyTorch() {
        Case c = load("conv2d_groups2");
        c.expectAttributes("stride=1,1", "padding=1,1,1,1", "dilation=1,1", "groups=2", "bias=true");
        assertMatchesPyTorch(c, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 2), "x", "weight", "bias");
    }

    @Test
    void dilatedConvMatchesPyTorch() {
        Case c = load("conv2d_dilation2");
        c.expectAttributes("stride=1,1", "padding=1,1,1,1", "dilation=2,2", "groups=1", "bias=true");
        assertMatchesPyTorch(c, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{2, 2}, 1), "x", "weight", "bias");
    }

    @Test
    void depthwiseConvMatchesPyTorch() {
        Case c = load("depthwise_conv");
        c.expectAttributes("stride=1,1", "padding=1,1,1,1", "dilation=1,1", "groups=4", "bias=true");
        Conv2d op = new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 4);
        assertTrue(op.isDepthwise(c.tensor("x").type(), c.tensor("weight").type()));
        assertMatchesPyTorch(c, op, "x", "weight", "bias");
    }

    @Test
    void stridedDepthwiseConvMatchesPyTorch() {
        Case c = load("depthwise_conv_stride2");
        c.expectAttributes("stride=2,2", "padding=1,1,1,1", "dilation=1,1", "groups=4", "bias=true");
        assertMatchesPyTorch(c, new Conv2d(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 4), "x", "weight", "bias");
    }

    /** H=7, W=5 input, 3x2 kernel, stride (2,1), padding (1,0): any swap of the spatial axes shows. */
    @Test
    void convOnNonSquareInputWithPerAxisStrideAndPaddingMatchesPyTorch() {
        Case c = load("conv2d_nonsquare");
        c.expectAttributes("stride=2,1", "padding=1,0,1,0", "dilation=1,1", "groups=1", "bias=true");
        assertMatchesPyTorch(c, new Conv2d(new int[]{2, 1}, new int[]{1, 0, 1, 0}, new int[]{1, 1}, 1), "x", "weight", "bias");
    }

    // ---------------------------------------------------------------- pooling

    @Test
    void maxPool2x2Stride2MatchesPyTorch() {
        Case c = load("maxpool_2x2_stride2");
        c.expectAttributes("kernel=2,2", "stride=2,2", "padding=0,0,0,0");
        assertMatchesPyTorch(c, new MaxPool2d(new int[]{2, 2}, new int[]{2, 2}, new int[]{0, 0, 0, 0}), "x");
    }

    /** Inputs are shifted negative, so a padded position counted as 0 would win at the borders. */
    @Test
    void paddedMaxPool3x3Stride2MatchesPyTorch() {
        Case c = load("maxpool_3x3_stride2_pad1");
        c.expectAttributes("kernel=3,3", "stride=2,2", "padding=1,1,1,1");
        assertMatchesPyTorch(c, new MaxPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}), "x");
    }

    @Test
    void avgPoolCountingPaddingMatchesPyTorch() {
        Case c = load("avgpool_3x3_stride2_pad1_include_pad");
        c.expectAttributes("kernel=3,3", "stride=2,2", "padding=1,1,1,1", "count_include_pad=true");
        assertMatchesPyTorch(c, new AvgPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}, true), "x");
    }

    @Test
    void avgPoolExcludingPaddingMatchesPyTorch() {
        Case c = load("avgpool_3x3_stride2_pad1_exclude_pad");
        c.expectAttributes("kernel=3,3", "stride=2,2", "padding=1,1,1,1", "count_include_pad=false");
        assertMatchesPyTorch(c, new AvgPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}, false), "x");
    }

    // ---------------------------------------------------------------- softmax

    /** One logit is 100, whose exp overflows f32: only right if the max is subtracted first. */
    @Test
    void softmaxOverLastAxisMatchesPyTorch() {
        Case c = load("softmax_last_axis");
        c.expectAttributes("axis=2");
        assertMatchesPyTorch(c, new Softmax(2), "x");
    }

    @Test
    void softmaxOverChannelAxisMatchesPyTorch() {
        Case c = load("softmax_axis1");
        c.expectAttributes("axis=1");
        assertMatchesPyTorch(c, new Softmax(1), "x");
    }

    // ---------------------------------------------------------------- matmul, linear, batch norm

    /** [2,1,3,4] · [5,4,6] = [2,5,3,6]: the batch dims broadcast 2x1 against 5. */
    @Test
    void batchedMatMulWithBroadcastMatchesPyTorch() {
        Case c = load("matmul_batched_broadcast");
        assertMatchesPyTorch(c, new MatMul(), "a", "b");
    }

    @Test
    void linearWithBiasMatchesPyTorch() {
        Case c = load("linear_bias");
        c.expectAttributes("bias=true");
        assertMatchesPyTorch(c, new Linear(), "x", "weight", "bias");
    }

    @Test
    void batchNormInEvalModeMatchesPyTorch() {
        Case c = load("batchnorm_eval");
        c.expectAttributes("eps=1e-5", "mode=eval");
        assertMatchesPyTorch(c, new BatchNorm2d(1e-5f), "x", "weight", "bias", "running_mean", "running_var");
    }

    // ---------------------------------------------------------------- activations (inputs reach ±1e4)

    @Test
    void geluMatchesPyTorch() {
        assertMatchesPyTorch(load("gelu"), Unary.of(Unary.Kind.GELU), "x");
    }

    @Test
    void sigmoidMatchesPyTorch() {
        assertMatchesPyTorch(load("sigmoid"), Unary.of(Unary.Kind.SIGMOID), "x");
    }

    @Test
    void tanhMatchesPyTorch() {
        assertMatchesPyTorch(load("tanh"), Unary.of(Unary.Kind.TANH), "x");
    }

    @Test
    void leakyReluMatchesPyTorch() {
        Case c = load("leaky_relu");
        c.expectAttributes("negative_slope=0.2");
        assertMatchesPyTorch(c, Unary.of(Unary.Kind.LEAKY_RELU, 0.2f), "x");
    }

    // ---------------------------------------------------------------- LSTM

    /** x, then h0 and c0 if given, then per layer the four state_dict tensors in Lstm's operand order. */
    private static String[] lstmOperands(int layers, boolean initialState) {
        List<String> names = new ArrayList<>(List.of("x"));
        if (initialState) names.addAll(List.of("h0", "c0"));
        for (int l = 0; l < layers; l++)
            names.addAll(List.of("weight_ih_l" + l, "weight_hh_l" + l, "bias_ih_l" + l, "bias_hh_l" + l));
        return names.toArray(String[]::new);
    }

    @Test
    void twoLayerBatchFirstLstmWithInitialStateMatchesPyTorch() {
        Case c = load("lstm_2layer_batch_first_initial_state");
        c.expectAttributes("hidden_size=7", "num_layers=2", "batch_first=true", "initial_state=true");
        assertMatchesPyTorch(c, new Lstm(7, 2, true, true), lstmOperands(2, true));
    }

    @Test
    void twoLayerBatchFirstLstmFromZeroStateMatchesPyTorch() {
        Case c = load("lstm_2layer_batch_first_zero_state");
        c.expectAttributes("hidden_size=7", "num_layers=2", "batch_first=true", "initial_state=false");
        assertMatchesPyTorch(c, new Lstm(7, 2, true, false), lstmOperands(2, false));
    }

    @Test
    void singleLayerSequenceFirstLstmMatchesPyTorch() {
        Case c = load("lstm_1layer_seq_first");
        c.expectAttributes("hidden_size=7", "num_layers=1", "batch_first=false", "initial_state=false");
        assertMatchesPyTorch(c, new Lstm(7, 1, false, false), lstmOperands(1, false));
    }

    // ---------------------------------------------------------------- worked by hand

    /**
     * x = 1..16 as a 4x4 image, w = [[1,2],[3,4]], stride 2, no padding: four disjoint windows.
     * <pre>
     *  (0,0): 1·1 + 2·2  + 3·5  + 4·6  =  1 +  4 + 15 + 24 =  44
     *  (0,1): 1·3 + 2·4  + 3·7  + 4·8  =  3 +  8 + 21 + 32 =  64
     *  (1,0): 1·9 + 2·10 + 3·13 + 4·14 =  9 + 20 + 39 + 56 = 124
     *  (1,1): 1·11+ 2·12 + 3·15 + 4·16 = 11 + 24 + 45 + 64 = 144
     * </pre>
     */
    @Test
    void stridedConvMatchesHandComputedValues() {
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) x[i] = i + 1;
        HostTensor y = new Conv2d(new int[]{2, 2}, new int[]{0, 0, 0, 0}, new int[]{1, 1}, 1).evaluate(List.of(
                HostTensor.of(x, 1, 1, 4, 4), HostTensor.of(new float[]{1, 2, 3, 4}, 1, 1, 2, 2)));
        assertClose("hand-computed strided conv", y, HostTensor.of(new float[]{44, 64, 124, 144}, 1, 1, 2, 2));
    }

    /**
     * x = 1..9 as a 3x3 image, a 3x3 kernel of ones, stride 2, padding 1, bias 0.5. The output is
     * 2x2 (floor((3 + 2 − 3) / 2) + 1), each window centred on a corner, so it sums the 2x2
     * block of x at that corner (the rest is padding):
     * <pre>
     *  (0,0): 1+2+4+5 = 12 → 12.5     (0,1): 2+3+5+6 = 16 → 16.5
     *  (1,0): 4+5+7+8 = 24 → 24.5     (1,1): 5+6+8+9 = 28 → 28.5
     * </pre>
     */
    @Test
    void paddedStridedConvWithBiasMatchesHandComputedValues() {
        float[] x = new float[9], w = new float[9];
        for (int i = 0; i < 9; i++) { x[i] = i + 1; w[i] = 1; }
        HostTensor y = new Conv2d(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1).evaluate(List.of(
                HostTensor.of(x, 1, 1, 3, 3), HostTensor.of(w, 1, 1, 3, 3), HostTensor.of(new float[]{0.5f}, 1)));
        assertClose("hand-computed padded strided conv", y, HostTensor.of(new float[]{12.5f, 16.5f, 24.5f, 28.5f}, 1, 1, 2, 2));
    }

    /**
     * 2x2 windows, stride 2, over
     * <pre>
     *   1  5 |  2  0          max(1,5,3,−1)   = 5     max(2,0,8,7)     = 8
     *   3 −1 |  8  7
     *  ------+------   →
     *  −4 −6 |  0 −2          max(−4,−6,−3,−5) = −3   max(0,−2,−1,−9) = 0
     *  −3 −5 | −1 −9
     * </pre>
     */
    @Test
    void maxPoolMatchesHandComputedValues() {
        HostTensor x = HostTensor.of(new float[]{
                1, 5, 2, 0,
                3, -1, 8, 7,
                -4, -6, 0, -2,
                -3, -5, -1, -9}, 1, 1, 4, 4);
        HostTensor y = new MaxPool2d(new int[]{2, 2}, new int[]{2, 2}, new int[]{0, 0, 0, 0}).evaluate(List.of(x));
        assertClose("hand-computed max pool", y, HostTensor.of(new float[]{5, 8, -3, 0}, 1, 1, 2, 2));
    }

    /**
     * 3x3 windows, stride 2, padding 1 over an all-negative 3x3 image: output 2x2, each window
     * centred on a corner. Were the padding taken as 0, every output would be 0.
     * <pre>
     *  −1 −2 −3       (0,0): max(−1,−2,−4,−5) = −1    (0,1): max(−2,−3,−5,−6) = −2
     *  −4 −5 −6   →
     *  −7 −8 −9       (1,0): max(−4,−5,−7,−8) = −4    (1,1): max(−5,−6,−8,−9) = −5
     * </pre>
     */
    @Test
    void paddedMaxPoolNeverPicksThePaddingHandComputed() {
        HostTensor x = HostTensor.of(new float[]{-1, -2, -3, -4, -5, -6, -7, -8, -9}, 1, 1, 3, 3);
        HostTensor y = new MaxPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}).evaluate(List.of(x));
        assertClose("hand-computed padded max pool", y, HostTensor.of(new float[]{-1, -2, -4, -5}, 1, 1, 2, 2));
    }
}
