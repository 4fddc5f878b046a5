package dev.kiln.frontend.weights;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * NumPy's .npy format, versions 1.0, 2.0 and 3.0: the magic {@code \x93NUMPY}, a version, a
 * little-endian header length (u16 in 1.0, u32 later), a Python dict literal with
 * {@code descr}, {@code fortran_order} and {@code shape}, then the raw elements.
 *
 * <p>Reads little-endian {@code <f4}, and converts {@code <f8}, {@code <f2}, {@code <i8} and
 * {@code <i4} to f32 (rounding to nearest, so f64 and large integers may lose precision).
 * Writes {@code <f4}, version 1.0, with the header padded so the data starts on a 64-byte
 * boundary, as NumPy itself does.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Same bound as for safetensors: real headers are tiny, a huge length is corruption. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final int ALIGNMENT = 64;

    private Npy() {}

    public static HostTensor read(Path path) { return read(FileBytes.read(path), path.toString()); }

    /** {@code sourceName} is used in error messages. */
    public static HostTensor read(byte[] bytes, String sourceName) { return read(bytes, sourceName, false); }

    /**
     * Reads a model input: as {@link #read}, except that {@code <i8} and {@code <i4} arrays (token ids,
     * masks) become i64 and i32 tensors with their exact values (see {@link HostTensor#ofLongs}; a value
     * beyond 2^24 in magnitude is refused, naming the file and the element).
     */
    public static HostTensor readInput(byte[] bytes, String sourceName) { return read(bytes, sourceName, true); }

    private static HostTensor read(byte[] bytes, String sourceName, boolean integers) {
        if (bytes.length < 10)
            throw malformed(sourceName, "truncated: file has " + bytes.length + " bytes, an npy preamble needs at least 10");
        for (int i = 0; i < MAGIC.length; i++)
            if (bytes[i] != MAGIC[i])
                throw malformed(sourceName, "bad magic at byte " + i + ": not an npy file (expected \\x93NUMPY)");
        int major = bytes[6] & 0xFF, minor = bytes[7] & 0xFF;
        int lengthBytes = switch (major) {
            case 1 -> 2;
            case 2, 3 -> 4;
            default -> throw malformed(sourceName, "unsupported npy version " + major + "." + minor + " at byte 6");
        };
        if (bytes.length < 8 + lengthBytes)
            throw malformed(sourceName, "truncated: header length at byte 8 needs " + lengthBytes + " bytes, file has " + bytes.length);
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBytes == 2 ? le.getShort(8) & 0xFFFFL : le.getInt(8) & 0xFFFFFFFFL;
        if (headerLength > MAX_HEADER_BYTES)
            throw malformed(sourceName, "header length " + headerLength + " at byte 8 exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        int headerStart = 8 + lengthBytes;
        if (headerLength > bytes.length - headerStart)
            throw malformed(sourceName, "truncated: header length " + headerLength + " at byte 8 runs past the end of the file ("
                    + bytes.length + " bytes)");
        int dataStart = headerStart + (int) headerLength;
        // Versions 1 and 2 store the header as latin-1, so each char is one byte; version 3 allows UTF-8.
        Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        String header = new String(bytes, headerStart, (int) headerLength, charset);

        NpyHeader h = new NpyHeaderParser(header, headerStart, charset, sourceName).parse();
        ElementEncoding encoding = switch (h.descr()) {
            case "<f4" -> ElementEncoding.F32;
            case "<f8" -> ElementEncoding.F64;
            case "<f2" -> ElementEncoding.F16;
            case "<i8" -> ElementEncoding.I64;
            case "<i4" -> ElementEncoding.I32;
            default -> throw malformed(sourceName, "field 'descr': unsupported dtype '" + h.descr() + "'"
                    + (h.descr().startsWith(">") ? " (big-endian)" : "") + "; readable: <f4, <f8, <f2, <i8, <i4");
        };
        if (h.fortranOrder())
            throw malformed(sourceName, "field 'fortran_order' is True: column-major arrays are not supported,"
                    + " save with numpy.ascontiguousarray first");

        long[] dims = h.shape();
        int[] shape = new int[dims.length];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) throw malformed(sourceName, "field 'shape': negative dimension " + dims[i] + " at index " + i);
            if (dims[i] > Integer.MAX_VALUE) throw malformed(sourceName, "field 'shape': dimension " + dims[i] + " is too large");
            shape[i] = (int) dims[i];
            // Capping just past the int range keeps the product exact where it matters and free of overflow.
            count = Math.min(count * dims[i], Integer.MAX_VALUE + 1L);
        }
        if (count > Integer.MAX_VALUE)
            throw malformed(sourceName, "field 'shape': " + Arrays.toString(dims) + " has more than 2^31 elements");
        long needed = count * encoding.bytes;
        long available = bytes.length - dataStart;
        if (available < needed)
            throw malformed(sourceName, "truncated: data from byte " + dataStart + " needs " + needed + " bytes, file has only "
                    + available + " after the header");
        if (available > needed)
            throw malformed(sourceName, (available - needed) + " unexpected bytes after the data, from byte " + (dataStart + needed));
        if (integers && (encoding == ElementEncoding.I64 || encoding == ElementEncoding.I32)) {
            ByteBuffer b = ByteBuffer.wrap(bytes, dataStart, (int) needed).slice().order(ByteOrder.LITTLE_ENDIAN);
            long[] v = new long[(int) count];
            for (int i = 0; i < v.length; i++) v[i] = encoding == ElementEncoding.I64 ? b.getLong(8 * i) : b.getInt(4 * i);
            try {
                HostTensor t = HostTensor.ofLongs(Shape.of(shape), v);
                return encoding == ElementEncoding.I64 ? t : HostTensor.ofInts(toInts(v), shape);
            } catch (dev.kiln.ir.KilnException e) {
                throw new dev.kiln.ir.KilnException(sourceName + ": " + e.getMessage());
            }
        }
        return HostTensor.of(Shape.of(shape), encoding.decode(bytes, dataStart, (int) count));
    }

    private static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (int) v[i];
        return out;
    }

    public static void write(Path path, HostTensor tensor) { FileBytes.write(path, toBytes(tensor)); }

    public static byte[] toBytes(HostTensor tensor) {
        int[] dims = tensor.shape().dims();
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) shape.append(i > 0 ? ", " : "").append(dims[i]);
        // A one-element Python tuple needs its trailing comma, or it reads back as a plain int.
        shape.append(dims.length == 1 ? ",)" : ")");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";

        int preamble = 10;
        int total = (preamble + dict.length() + 1 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        int headerLength = total - preamble;
        if (headerLength > 0xFFFF)
            throw new IllegalArgumentException("npy 1.0 header would be " + headerLength + " bytes, over its 65535-byte limit");
        String header = dict + " ".repeat(headerLength - dict.length() - 1) + "\n";

        long size = (long) total + 4L * tensor.size();
        if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor too large for one npy byte array: " + size);
        byte[] out = new byte[(int) size];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = 1;
        out[7] = 0;
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) headerLength);
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(h, 0, out, preamble, h.length);
        ElementEncoding.encodeF32(tensor.data(), out, total);
        return out;
    }

    static MalformedFileException malformed(String sourceName, String detail) {
        return new MalformedFileException(sourceName + ": " + detail);
    }

    /** The three fields of an npy header dict. */
    record NpyHeader(String descr, boolean fortranOrder, long[] shape) {}
}
