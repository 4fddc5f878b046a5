package dev.kiln.runtime.cli;

import dev.kiln.frontend.weights.Npy;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.ShapeException;
import dev.kiln.ir.TensorType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one model input from a .npy file and checks it against the input's declared type:
 * every refusal names the input, the file and both the expected and the actual type.
 */
final class NpyInput {
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");

    private NpyInput() {}

    /**
     * With {@code declared} (the ONNX model's dimensions, for an artifact with symbolic ones), the input may have any
     * size on a symbolic axis ("batch", "sequence"); without it the shape must be the expected one. An integer input
     * (i64, i32) reads an int64 or int32 array, exactly (see {@link Npy#readInput}); a float input a float32 array.
     */
    static HostTensor read(String input, Path file, TensorType expected, List<String> declared) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new KilnException("input '" + input + "': no such file " + file);
        } catch (IOException e) {
            throw new KilnException("input '" + input + "': cannot read " + file + ": " + e.getMessage(), e);
        }
        HostTensor t;
        try {
            t = Npy.readInput(bytes, file.toString());
        } catch (MalformedFileException e) {
            throw new MalformedFileException("input '" + input + "': " + e.getMessage(), e);
        } catch (KilnException e) {
            throw new KilnException("input '" + input + "': " + e.getMessage(), e);
        }
        String descr = descr(bytes);
        boolean integer = expected.dtype().isInteger();
        boolean fits = integer ? descr.equals("<i8") || descr.equals("<i4") : descr.equals("<f4");
        if (!fits)
            throw new ShapeException("input '" + input + "' (" + file + ") holds " + dtypeName(descr) + t.shape() + " but the model expects "
                    + expected + "; convert it, e.g. numpy.save(path, a.astype(numpy." + (integer ? "int64" : "float32") + "))");
        // an int32 file for an i64 input (or the reverse) holds the same integers
        if (integer && t.dtype() != expected.dtype()) t = expected.dtype() == dev.kiln.ir.DType.I64 ? HostTensor.ofLongs(t.shape(), t.longs()) : ints(t);
        if (!t.shape().equals(expected.shape()) && !(declared != null && fitsDeclared(t.shape(), declared)))
            throw new ShapeException("input '" + input + "' (" + file + ") has shape " + t.shape() + " but the model expects "
                    + (declared != null ? declared : expected));
        return t;
    }

    private static HostTensor ints(HostTensor t) {
        long[] v = t.longs();
        int[] i = new int[v.length];
        for (int k = 0; k < v.length; k++) i[k] = (int) v[k];
        return HostTensor.ofInts(i, t.shape().dims());
    }

    /** Same rank, and every numeric (static) dimension as declared. */
    private static boolean fitsDeclared(dev.kiln.ir.Shape s, List<String> declared) {
        if (s.rank() != declared.size()) return false;
        for (int i = 0; i < s.rank(); i++) {
            String d = declared.get(i);
            if (!dev.kiln.runtime.Artifact.symbolic(d) && Long.parseLong(d) != s.dim(i)) return false;
        }
        return true;
    }

    /** The header's dtype code; Npy.read has already checked the header is well formed. */
    private static String descr(byte[] bytes) {
        int headerStart = bytes[6] == 1 ? 10 : 12;
        String header = new String(bytes, headerStart, Math.min(bytes.length - headerStart, 4096), StandardCharsets.ISO_8859_1);
        Matcher m = DESCR.matcher(header);
        return m.find() ? m.group(1) : "?";
    }

    private static String dtypeName(String descr) {
        return switch (descr) {
            case "<f8" -> "f64";
            case "<f2" -> "f16";
            case "<i8" -> "i64";
            case "<i4" -> "i32";
            default -> descr;
        };
    }
}
