package dev.kiln.test.onnx;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.op.Unary;
import dev.kiln.passes.PassManager;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Kiln;
import dev.kiln.test.kit.Targets;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch exports that use the activations real models have — torchvision's MobileNetV2 (ReLU6 as
 * Clip) and MobileNetV3-Small (hardswish, hardsigmoid, squeeze-excitation), and a model with every
 * element-wise function Kiln imports, and one with min/max, PReLU, comparisons, where and pow on
 * non-finite inputs — compiled with the default passes on each backend and run
 * against PyTorch's own output. Every activation that follows a conv must end up in its epilogue.
 */
class OnnxModelsOnBackendsTest {
    static final double MAX_RELATIVE_L2 = 1e-4;

    @ParameterizedTest(name = "{0} @ opset {1} on {2}: {3} unary ops left")
    @CsvSource({
            "mobilenet-v2, 13, cpu, 0", "mobilenet-v2, 17, cpu, 0", "mobilenet-v2, 13, opencl, 0",
            "mobilenet-v3-small, 13, cpu, 0", "mobilenet-v3-small, 17, cpu, 0", "mobilenet-v3-small, 17, opencl, 0",
            // torchvision's ShuffleNetV2 (narrowed): channel shuffles (rank-5 transposes), splits, ReduceMean over H,W
            "shufflenet-v2, 13, cpu, 0", "shufflenet-v2, 17, cpu, 0", "shufflenet-v2, 17, opencl, 0",
            // the activations model applies 23 unary ops to the input itself (nothing to fuse into); hardswish, SiLU
            // and Mish each follow a conv, are exported as x times a gate of x, and must end up in the conv's epilogue
            "activations, 13, cpu, 23", "activations, 17, cpu, 23", "activations, 13, opencl, 23",
            // min/max, PReLU, masks, where and pow on NaN, ±∞ and ±0 (the error measure counts the same ∞ or NaN as a match)
            "masks-minmax, 13, cpu, 14", "masks-minmax, 17, cpu, 14", "masks-minmax, 17, opencl, 14",
            // 1-D convolutions and pools run as 2-D ones over a height of 1; the batch norm (kept by the export of
            // audio-1d-bn) folds and the activations fuse through the reshapes around them
            "audio-1d, 13, cpu, 0", "audio-1d, 17, cpu, 0", "audio-1d, 17, opencl, 0",
            "audio-1d-bn, 13, cpu, 0", "audio-1d-bn, 17, opencl, 0",
            // nn.TransformerEncoderLayer, post-norm ReLU and pre-norm GELU: LayerNorm (recognised at opset 13), softmax
            // attention over 4 heads, the feed-forward's activation fused into its first linear layer
            "transformer-post, 13, cpu, 0", "transformer-post, 17, cpu, 0", "transformer-post, 13, opencl, 0", "transformer-post, 17, opencl, 0",
            "transformer-pre-gelu, 13, cpu, 0", "transformer-pre-gelu, 17, cpu, 0", "transformer-pre-gelu, 13, opencl, 0",
            "transformer-pre-gelu, 17, opencl, 0",
            // reductions: a squeeze-excitation mean over H,W, sum, amax and logsumexp (ReduceX ops, one Reduce each)
            "se-mean, 13, cpu, 0", "se-mean, 17, cpu, 0", "se-mean, 13, opencl, 0", "se-mean, 17, opencl, 0",
            // InstanceNorm2d + ReLU, GroupNorm (reshape, instance norm, reshape, affine) and a channels-last LayerNorm,
            // one LayerNorm op each (at opset 13 the LayerNorm is recognised from its decomposition); the ReLU after the
            // instance norm's affine stays
            "norms, 13, cpu, 1", "norms, 17, cpu, 1", "norms, 13, opencl, 1", "norms, 17, opencl, 1",
            // transposed convs: BN folded into them, ReLU/Tanh/Sigmoid and a constant add fused into their epilogues
            "dcgan, 13, cpu, 0", "dcgan, 17, cpu, 0", "dcgan, 17, opencl, 0", "unet-transposed, 13, cpu, 0", "unet-transposed, 17, opencl, 0",
            "convtranspose-zoo, 13, cpu, 0", "convtranspose-zoo, 17, cpu, 0", "convtranspose-zoo, 13, opencl, 0",
            // issue 18: PixelShuffle (DepthToSpace CRD: a rank-6 transpose), a rank-5 channel shuffle
            "espcn, 13, cpu, 0", "espcn, 17, cpu, 0", "espcn, 13, opencl, 0", "espcn, 17, opencl, 0",
            "channel-shuffle, 13, cpu, 0", "channel-shuffle, 17, cpu, 0", "channel-shuffle, 13, opencl, 0", "channel-shuffle, 17, opencl, 0",
            // reflection, replication, asymmetric zero and constant pads as Pad ops
            "style-pad, 13, cpu, 0", "style-pad, 17, cpu, 0", "style-pad, 13, opencl, 0", "style-pad, 17, opencl, 0",
            // a tiny UNet: nearest and bilinear nn.Upsample (half-pixel, or align_corners) as Resize
            "unet-upsample, 13, cpu, 0", "unet-upsample, 17, cpu, 0", "unet-upsample, 13, opencl, 0", "unet-upsample, 17, opencl, 0",
            "unet-upsample-corners, 13, cpu, 0", "unet-upsample-corners, 17, opencl, 0",
            // issue 19: a 2-layer batch-first GRU with initial state (Y and Y_h), a 2-layer bidirectional LSTM classifier,
            // bidirectional GRUs from zero and from a given state, a 2-layer bidirectional GRU classifier
            "gru, 13, cpu, 0", "gru, 17, cpu, 0", "gru, 13, opencl, 0", "gru, 17, opencl, 0",
            "bilstm, 13, cpu, 0", "bilstm, 17, cpu, 0", "bilstm, 13, opencl, 0", "bilstm, 17, opencl, 0",
            "bigru, 13, cpu, 0", "bigru, 17, cpu, 0", "bigru, 13, opencl, 0", "bigru, 17, opencl, 0",
            "gru-classifier, 13, cpu, 0", "gru-classifier, 17, opencl, 0",
            // a fused QKV projection split three ways, an uneven split (ONNX Split as slices); the sigmoid and relu of slices stay
            "split-qkv, 13, cpu, 2", "split-qkv, 17, cpu, 2", "split-qkv, 13, opencl, 2", "split-qkv, 17, opencl, 2",
            // masked attention: GPT-style causal block (masked_fill(triu)), nn.MultiheadAttention cross-attention with a
            // float attn_mask, BERT-style key padding (boolean [B,1,1,N] from an input: pad > 1 leaves its two unary ops)
            "gpt-causal, 13, cpu, 0", "gpt-causal, 17, cpu, 0", "gpt-causal, 13, opencl, 0", "gpt-causal, 17, opencl, 0",
            "cross-attention, 13, cpu, 0", "cross-attention, 17, cpu, 0", "cross-attention, 13, opencl, 0", "cross-attention, 17, opencl, 0",
            "padded-attention, 13, cpu, 2", "padded-attention, 17, cpu, 2", "padded-attention, 13, opencl, 2", "padded-attention, 17, opencl, 2",
            // key padding as PyTorch's layers take it: nn.TransformerEncoderLayer's src_key_padding_mask as a float −∞/0
            // input, nn.MultiheadAttention's boolean key_padding_mask from a float input (pad > 0.5 leaves two unary ops);
            // PyTorch adds both to the scores, so both fuse with an added [B·H,1,N] mask
            "encoder-key-padding, 13, cpu, 0", "encoder-key-padding, 17, cpu, 0", "encoder-key-padding, 13, opencl, 0", "encoder-key-padding, 17, opencl, 0",
            "mha-key-padding, 13, cpu, 2", "mha-key-padding, 17, cpu, 2", "mha-key-padding, 13, opencl, 2", "mha-key-padding, 17, opencl, 2",
            // issue 19, integer inputs: int64 token ids into an embedding + mean-pool classifier; a BERT-like encoder
            // (dynamic batch and sequence, run at [3, 11]) whose position ids and key-padding mask come from its inputs; the
            // unary ops left are the ids != pad mask (Not) and the bool cast of the expanded padding mask (Not twice). Its
            // attention fuses with the [B·H,1,N] additive mask broadcast along the queries (fused_attention mask=add)
            "text-classifier, 13, cpu, 0", "text-classifier, 17, cpu, 0", "text-classifier, 13, opencl, 0", "text-classifier, 17, opencl, 0",
            "bert-tiny, 13, cpu, 3", "bert-tiny, 17, cpu, 3", "bert-tiny, 13, opencl, 3", "bert-tiny, 17, opencl, 3",
            // a 2-layer ViT-tiny on 32x32 images: patch conv, cls token, position embedding, pre-norm GELU encoder layers
            "vit-tiny, 13, cpu, 0", "vit-tiny, 17, cpu, 0", "vit-tiny, 13, opencl, 0", "vit-tiny, 17, opencl, 0"})
    void compilesAndMatchesPyTorch(String model, int opset, String backend, int unaryLeft, TestReporter out) {
        var target = Targets.require(backend);
        OnnxFixtures f = OnnxFixtures.of(model, opset);
        Graph g = f.load();
        PassManager.Result r = PassManager.defaults().run(g);
        out.publishEntry(f.toString(), "\n" + r.report());
        long unary = r.graph().nodes().stream().filter(n -> n.op() instanceof Unary).count();
        assertEquals(unaryLeft, unary, () -> f + ": unary ops the epilogues did not take\n" + r.report() + r.graph());
        List<HostTensor> got;
        try (CompiledModel m = Kiln.compile(g, target)) {
            got = new ArrayList<>(m.run(f.inputData()).values());
        }
        List<HostTensor> want = f.expectedOutputs();
        for (int i = 0; i < want.size(); i++) {
            double err = got.get(i).relativeL2Error(want.get(i));
            int output = i;
            assertTrue(err <= MAX_RELATIVE_L2, () -> f + " on " + backend + ", output " + output + ": relative L2 error " + err + " against PyTorch");
        }
    }
}
