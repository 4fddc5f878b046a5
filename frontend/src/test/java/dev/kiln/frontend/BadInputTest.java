package dev.kiln.frontend;

import dev.kiln.frontend.models.Generator;
import dev.kiln.frontend.models.LstmClassifier;
import dev.kiln.frontend.models.MobileNetStack;
import dev.kiln.frontend.models.SmallCnn;
import dev.kiln.frontend.nn.Pooling;
import dev.kiln.frontend.weights.Weights;
import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.UnsupportedOpException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** Each way a user can get a model, its weights or its input wrong, and the error that says so. */
class BadInputTest {

    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    /** A model whose forward is one tensor expression, for the Tensor methods. */
    static Module model(Function<Tensor, Tensor> forward) {
        return new Module() {
            @Override public Tensor forward(Tensor x) { return forward.apply(x); }
        };
    }

    static Shape outputShape(Graph g) { return g.typeOf(g.outputs().getFirst()).shape(); }

    // ---- shapes that do not fit, found while tracing ----

    @Test
    void smallCnnOnA32PixelImageFailsAtFc1NamingBothShapes() {
        SmallCnn cnn = new SmallCnn();
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(cnn, 1, 3, 32, 32));
        // 32 → pooled twice → 8: 64·8·8 = 4096 features where fc1 takes 64·6·6 = 2304.
        assertMentions(e, "fc1", "f32[1,4096]", "f32[128,2304]");
        // The failed trace leaves nothing behind: the same model still traces at its own size.
        assertEquals(Shape.of(1, 10), outputShape(Tracer.trace(cnn, 1, 3, 24, 24)));
    }

    @Test
    void convFedTheWrongChannelCountNamesItsModulePath() {
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new Generator(3, 8, 2), 1, 4, 12, 12));
        assertMentions(e, "net.0", "f32[8,3,3,3]", "f32[1,4,12,12]");

        var depthwise = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new MobileNetStack(16), 1, 8, 32, 32));
        assertMentions(depthwise, "block1.depthwise", "groups=16", "input channels 8");
    }

    @Test
    void lstmFedTheWrongFeatureSizeNamesItsPathAndBothSizes() {
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new LstmClassifier(5, 7, 3), 2, 6, 4));
        assertMentions(e, "at lstm:", "[B,T,5]", "f32[2,6,4]");
        var rank2 = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new LstmClassifier(5, 7, 3), 6, 5));
        assertMentions(rank2, "at lstm:", "[B,T,5]", "f32[6,5]");
    }

    @Test
    void viewWithTwoInferredDimensionsIsRefused() {
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.view(-1, -1)), 2, 3));
        assertMentions(e, "[-1, -1]", "more than one -1");
    }

    @Test
    void viewToASizeThatDoesNotDivideIsRefused() {
        var inferred = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.view(4, -1)), 2, 3));
        assertMentions(inferred, "f32[2,3]", "[4, -1]");
        var explicit = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.view(4, 2)), 2, 3));
        assertMentions(explicit, "f32[2,3]", "6 elements", "[4,2]", "(8)");
    }

    @Test
    void viewWithANegativeSizeOtherThanMinusOneIsAShapeError() {
        var e = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.view(-2, 3)), 2, 3));
        assertMentions(e, "[-2, 3]", "-2");
    }

    @Test
    void selectOutOfRangeNamesIndexAxisAndType() {
        var past = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.select(1, 3)), 2, 3));
        assertMentions(past, "index 3", "axis 1", "f32[2,3]");
        var before = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.select(1, -4)), 2, 3));
        assertMentions(before, "index -4", "axis 1", "f32[2,3]");
        var axis = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(model(x -> x.select(2, 0)), 2, 3));
        assertMentions(axis, "axis 2", "[2,3]");
        // In range from either end is fine.
        assertEquals(Shape.of(2), outputShape(Tracer.trace(model(x -> x.select(1, -3)), 2, 3)));
    }

    @Test
    void adaptiveAvgPoolNeedsAPositiveSizeAndAnImage() {
        var e = assertThrowsExactly(IllegalArgumentException.class, () -> new Pooling.AdaptiveAvgPool2d(0, 2));
        assertMentions(e, "AdaptiveAvgPool2d", "positive", "0x2");
        var r = assertThrowsExactly(ShapeException.class, () -> Tracer.trace(new Pooling.AdaptiveAvgPool2d(2), 2, 3));
        assertMentions(r, "[N, C, H, W]", "[2,3]");
    }

    // ---- weights that do not fit the model ----

    /** A complete, correctly shaped state_dict for SmallCnn, as fresh tensors. */
    static Map<String, HostTensor> smallCnnWeights(long seed) {
        Map<String, HostTensor> w = new LinkedHashMap<>();
        new SmallCnn().namedParameters().forEach((k, p) -> w.put(k, HostTensor.uniform(p.shape(), seed + k.hashCode(), -1, 1)));
        return w;
    }

    @Test
    void weightOfTheWrongShapeIsNamedWithBothShapes() {
        Map<String, HostTensor> w = smallCnnWeights(1);
        w.put("conv1.weight", HostTensor.zeros(32, 3, 5, 5));
        var e = assertThrowsExactly(ShapeException.class, () -> new SmallCnn().load(w));
        assertMentions(e, "SmallCnn", "'conv1.weight'", "[32,3,5,5]", "[32,3,3,3]");
    }

    @Test
    void missingWeightIsNamed() {
        Map<String, HostTensor> w = smallCnnWeights(1);
        w.remove("fc2.bias");
        var e = assertThrowsExactly(KilnException.class, () -> new SmallCnn().load(w));
        assertMentions(e, "SmallCnn", "missing [fc2.bias]");
    }

    @Test
    void unexpectedExtraWeightIsNamed() {
        Map<String, HostTensor> w = smallCnnWeights(1);
        w.put("fc3.weight", HostTensor.zeros(10, 10));
        var e = assertThrowsExactly(KilnException.class, () -> new SmallCnn().load(w));
        assertMentions(e, "SmallCnn", "unexpected [fc3.weight]");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        Map<String, HostTensor> w = smallCnnWeights(1);
        w.put("fc1.bias", HostTensor.zeros(64));
        w.remove("conv2.bias");
        w.put("conv3.weight", HostTensor.zeros(1));
        var e = assertThrowsExactly(ShapeException.class, () -> new SmallCnn().load(w));
        assertMentions(e, "'fc1.bias' has shape [64]", "[128]", "missing [conv2.bias]", "unexpected [conv3.weight]");
    }

    @Test
    void batchNormsNumBatchesTrackedIsAcceptedAndIgnored() {
        MobileNetStack model = new MobileNetStack(4);
        Map<String, HostTensor> w = new LinkedHashMap<>(model.stateDict());
        w.put("block1.bn1.num_batches_tracked", HostTensor.zeros(Shape.scalar()));
        assertDoesNotThrow(() -> model.load(w));
        assertFalse(model.stateDict().containsKey("block1.bn1.num_batches_tracked"));
    }

    @Test
    void aFailedLoadChangesNothing() {
        SmallCnn model = new SmallCnn().load(smallCnnWeights(1));
        Map<String, HostTensor> before = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> before.put(k, v.copy()));

        Map<String, HostTensor> badShape = smallCnnWeights(2);
        badShape.put("fc2.weight", HostTensor.zeros(10, 64));   // every other tensor is good and new
        assertThrows(ShapeException.class, () -> model.load(badShape));
        assertEquals(before, model.stateDict());

        Map<String, HostTensor> missing = smallCnnWeights(3);
        missing.remove("conv1.bias");
        assertThrows(KilnException.class, () -> model.load(missing));
        assertEquals(before, model.stateDict());

        Map<String, HostTensor> extra = smallCnnWeights(4);
        extra.put("head.weight", HostTensor.zeros(1));
        assertThrows(KilnException.class, () -> model.load(extra));
        assertEquals(before, model.stateDict());
    }

    // ---- weight files that cannot be read ----

    @Test
    void truncatedSafetensorsFileIsMalformedAndNamesTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(TargetModelsTest.fixture("cnn.safetensors"));

        Path cutInData = dir.resolve("cut-in-data.safetensors");
        Files.write(cutInData, Arrays.copyOf(whole, whole.length / 2));
        var data = assertThrowsExactly(MalformedFileException.class, () -> Weights.safetensors(cutInData));
        assertMentions(data, cutInData.toString(), "truncated");

        Path cutInHeader = dir.resolve("cut-in-header.safetensors");
        Files.write(cutInHeader, Arrays.copyOf(whole, 100));
        var header = assertThrowsExactly(MalformedFileException.class, () -> Weights.safetensors(cutInHeader));
        assertMentions(header, cutInHeader.toString(), "truncated", "header length");

        Path cutInLength = dir.resolve("cut-in-length.safetensors");
        Files.write(cutInLength, Arrays.copyOf(whole, 5));
        var length = assertThrowsExactly(MalformedFileException.class, () -> Weights.safetensors(cutInLength));
        assertMentions(length, cutInLength.toString(), "truncated", "5 bytes");
    }

    @Test
    void missingSafetensorsFileIsNamed(@TempDir Path dir) {
        Path absent = dir.resolve("absent.safetensors");
        var e = assertThrows(KilnException.class, () -> Weights.safetensors(absent));
        assertMentions(e, absent.toString(), "no such file");
    }

    @Test
    void npyDirectoryThatDoesNotExistIsNamed(@TempDir Path dir) {
        Path absent = dir.resolve("no-weights-here");
        var e = assertThrowsExactly(KilnException.class, () -> Weights.npyDirectory(absent));
        assertMentions(e, absent.toString(), "does not exist");
    }
}
