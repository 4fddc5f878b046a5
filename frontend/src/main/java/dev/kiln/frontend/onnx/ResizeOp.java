package dev.kiln.frontend.onnx;

import dev.kiln.ir.op.Resize;

import java.util.Arrays;
import java.util.Map;

/**
 * ONNX Resize (opsets 13 to 17, as PyTorch exports nn.Upsample and F.interpolate): nearest or
 * (bi)linear over the trailing 1 or 2 axes of a rank-3 or rank-4 tensor, with the output given by
 * constant scales (floor(in × scale), the scale then kept for the coordinate transform) or
 * constant sizes. N and C keep their size. Cubic mode, exclude_outside, antialias, axes, the
 * TensorFlow coordinate modes and sizes computed at run time are refused, each by name.
 */
final class ResizeOp {
    private ResizeOp() {}

    static void register(Map<String, OpImporter> r) { r.put("Resize", ResizeOp::lower); }

    static void lower(NodeView n) {
        // attributes first: they are checked even when the input is unknown (downstream of another refusal)
        String modeName = n.attrString("mode", "nearest");
        Resize.Mode mode = switch (modeName) {
            case "nearest" -> Resize.Mode.NEAREST;
            case "linear" -> Resize.Mode.LINEAR;
            default -> throw n.unsupported("mode '" + modeName + "' is not supported (nearest and linear are)");
        };
        String coordName = n.attrString("coordinate_transformation_mode", "half_pixel");
        Resize.Coord coord = switch (coordName) {
            case "half_pixel" -> Resize.Coord.HALF_PIXEL;
            case "pytorch_half_pixel" -> Resize.Coord.PYTORCH_HALF_PIXEL;
            case "align_corners" -> Resize.Coord.ALIGN_CORNERS;
            case "asymmetric" -> Resize.Coord.ASYMMETRIC;
            default -> throw n.unsupported("coordinate_transformation_mode '" + coordName
                    + "' is not supported (half_pixel, pytorch_half_pixel, align_corners and asymmetric are)");
        };
        String nearestName = n.attrString("nearest_mode", "round_prefer_floor");
        Resize.Nearest nearest = switch (nearestName) {
            case "round_prefer_floor" -> Resize.Nearest.ROUND_PREFER_FLOOR;
            case "round_prefer_ceil" -> Resize.Nearest.ROUND_PREFER_CEIL;
            case "floor" -> Resize.Nearest.FLOOR;
            case "ceil" -> Resize.Nearest.CEIL;
            default -> throw n.malformed("nearest_mode '" + nearestName + "' is not an ONNX nearest mode");
        };
        if (n.attrInt("exclude_outside", 0) != 0) throw n.unsupported("exclude_outside = 1 is not supported");
        if (n.attrInt("antialias", 0) != 0) throw n.unsupported("antialias = 1 is not supported");
        if (n.hasAttr("axes")) throw n.unsupported("the axes attribute (opset 18) is not supported; Kiln resizes the trailing spatial axes");
        if (!n.attrString("keep_aspect_ratio_policy", "stretch").equals("stretch"))
            throw n.unsupported("keep_aspect_ratio_policy '" + n.attrString("keep_aspect_ratio_policy", "") + "' is not supported");

        int[] d = n.dims(0);
        int r = d.length;
        if (r != 3 && r != 4)
            throw n.unsupported("its input has rank " + r + " " + Arrays.toString(d) + "; Kiln resizes rank-3 [N,C,W] and rank-4 [N,C,H,W] tensors");
        double[] scales = n.has(2) ? n.constIn(2, "scales").doubles() : new double[0];
        long[] sizes = n.has(3) ? n.constIn(3, "sizes").longs() : new long[0];
        if (scales.length > 0 && sizes.length > 0) throw n.malformed("both scales and sizes are given; ONNX allows one of them");
        if (scales.length == 0 && sizes.length == 0) throw n.malformed("neither scales nor sizes is given");
        int[] out = d.clone();
        float[] given = new float[r];
        if (scales.length > 0) {
            if (scales.length != r) throw n.malformed("scales " + Arrays.toString(scales) + " need " + r + " values for an input of rank " + r);
            for (int a = 0; a < r; a++) {
                if (!(scales[a] > 0) || Double.isInfinite(scales[a])) throw n.malformed("scale " + scales[a] + " of axis " + a + " is not positive");
                out[a] = (int) Math.floor(d[a] * (double) (float) scales[a]);
                given[a] = (float) scales[a];
            }
        } else {
            if (sizes.length != r) throw n.malformed("sizes " + Arrays.toString(sizes) + " need " + r + " values for an input of rank " + r);
            for (int a = 0; a < r; a++) out[a] = NodeView.toInts(new long[]{sizes[a]})[0];
        }
        for (int a = 0; a < 2; a++)
            if (out[a] != d[a]) throw n.unsupported("it resizes axis " + a + " (" + d[a] + " → " + out[a] + "); Kiln resizes the spatial axes only"
                    + " (scales on N and C must be 1)");
        for (int a = 2; a < r; a++)
            if (out[a] < 1) throw n.unsupported("its output " + Arrays.toString(out) + " is empty along axis " + a + "; Kiln has no empty tensors");
        int[] size = Arrays.copyOfRange(out, 2, r);
        float scaleH = r == 4 ? given[2] : 0f, scaleW = given[r - 1];
        n.emitOut(new Resize(mode, coord, nearest, dev.kiln.ir.Ints.of(size), scaleH, scaleW), java.util.List.of(n.ir(0)));
    }
}
