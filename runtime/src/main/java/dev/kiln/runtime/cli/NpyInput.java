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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one model input from a .npy file and checks it against the input's declared type:
 * every refusal names the input, the file and both the expected and the actual type.
 */
final class NpyInput {
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");

    private NpyInput() {}

    /** With {@code otherBatch}, the first axis may differ from the expected one (a model with a dynamic batch axis). */
    static HostTensor read(String input, Path file, TensorType expected, boolean otherBatch) {
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
            t = Npy.read(bytes, file.toString());
        } catch (MalformedFileException e) {
            throw new MalformedFileException("input '" + input + "': " + e.getMessage(), e);
        }
        String descr = descr(bytes);
        if (!descr.equals("<f4"))
            throw new ShapeException("input '" + input + "' (" + file + ") holds " + dtypeName(descr) + t.shape() + " but the model expects "
                    + expected + "; convert it, e.g. numpy.save(path, a.astype(numpy.float32))");
        if (!t.shape().equals(expected.shape()) && !(otherBatch && sameBeyondBatch(t.shape(), expected.shape())))
            throw new ShapeException("input '" + input + "' (" + file + ") has shape " + t.shape() + " but the model expects " + expected);
        return t;
    }

    private static boolean sameBeyondBatch(dev.kiln.ir.Shape a, dev.kiln.ir.Shape b) {
        if (a.rank() != b.rank() || a.rank() == 0) return false;
        for (int i = 1; i < a.rank(); i++) if (a.dim(i) != b.dim(i)) return false;
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
