package dev.kiln.frontend.weights;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: a little-endian u64 header length N, N bytes of UTF-8 JSON naming
 * each tensor's dtype, shape and [begin, end) byte range in the data buffer that follows,
 * and an optional string-to-string {@code "__metadata__"} entry. Reads F32, F16, BF16 and F64
 * (as f32); writes F32.
 *
 * <p>Like the reference implementation, the reader insists that the tensors tile the data
 * buffer exactly (no overlap, no gap, nothing left over): anything else means the header and
 * the data disagree, and guessing which one is right would hide a corrupt file.
 */
public final class Safetensors {
    /** Headers are kilobytes in practice; a larger claimed length is corruption, refused before allocating. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    static final String METADATA_KEY = "__metadata__";

    private Safetensors() {}

    private record Entry(String name, ElementEncoding encoding, Shape shape, long begin, long end) {}

    public static Map<String, HostTensor> read(Path path) { return read(FileBytes.read(path), path.toString()); }

    /** Tensors in the order the header lists them. {@code sourceName} is used in error messages. */
    public static Map<String, HostTensor> read(byte[] bytes, String sourceName) {
        if (bytes.length < 8)
            throw malformed(sourceName, "truncated: file has " + bytes.length + " bytes, the header length at byte 0 needs 8");
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // Unsigned compare: a length with the top bit set is as implausible as a merely huge one.
        if (Long.compareUnsigned(headerLength, MAX_HEADER_BYTES) > 0)
            throw malformed(sourceName, "header length " + Long.toUnsignedString(headerLength) + " at byte 0 exceeds the "
                    + MAX_HEADER_BYTES + "-byte limit");
        if (headerLength > bytes.length - 8)
            throw malformed(sourceName, "truncated: header length " + headerLength + " at byte 0 runs past the end of the file ("
                    + bytes.length + " bytes)");
        int dataStart = 8 + (int) headerLength;
        String json = decodeUtf8(bytes, dataStart, sourceName);

        Object root;
        try {
            root = JsonLite.parse(json);
        } catch (JsonLite.SyntaxException e) {
            int at = 8 + json.substring(0, e.position).getBytes(StandardCharsets.UTF_8).length;
            throw malformed(sourceName, "header is not valid JSON at byte " + at + ": " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> header)) throw malformed(sourceName, "header at byte 8 is not a JSON object");

        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) checkMetadata(e.getValue(), sourceName);
            else entries.add(entry(name, e.getValue(), sourceName));
        }
        long bufferLength = bytes.length - dataStart;
        checkTiling(entries, bufferLength, dataStart, sourceName);

        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Entry t : entries) {
            float[] values = t.encoding.decode(bytes, dataStart + (int) t.begin, t.shape.elementCount());
            out.put(t.name, HostTensor.of(t.shape, values));
        }
        return out;
    }

    private static String decodeUtf8(byte[] bytes, int end, String sourceName) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, end - 8)).toString();
        } catch (CharacterCodingException e) {
            throw malformed(sourceName, "header (bytes 8 to " + end + ") is not valid UTF-8");
        }
    }

    private static void checkMetadata(Object value, String sourceName) {
        if (!(value instanceof Map<?, ?> m)) throw malformed(sourceName, "field '" + METADATA_KEY + "' is not an object");
        for (Map.Entry<?, ?> e : m.entrySet())
            if (!(e.getValue() instanceof String))
                throw malformed(sourceName, "field '" + METADATA_KEY + "." + e.getKey() + "' is not a string");
    }

    private static Entry entry(String name, Object value, String sourceName) {
        String where = "tensor " + JsonLite.quote(name);
        if (!(value instanceof Map<?, ?> fields)) throw malformed(sourceName, where + " is not an object");
        if (!(fields.get("dtype") instanceof String dtype))
            throw malformed(sourceName, where + " field 'dtype' is missing or not a string");
        ElementEncoding encoding = switch (dtype) {
            case "F32" -> ElementEncoding.F32;
            case "F16" -> ElementEncoding.F16;
            case "BF16" -> ElementEncoding.BF16;
            case "F64" -> ElementEncoding.F64;
            default -> throw malformed(sourceName, where + " field 'dtype': unsupported dtype \"" + dtype
                    + "\" (readable: F32, F16, BF16, F64)");
        };

        List<Long> dims = longs(fields.get("shape"), -1, where + " field 'shape'", sourceName);
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = dims.get(i);
            if (d < 0) throw malformed(sourceName, where + " field 'shape': negative dimension " + d + " at index " + i);
            if (d > Integer.MAX_VALUE) throw malformed(sourceName, where + " field 'shape': dimension " + d + " is too large");
            shape[i] = (int) d;
            // Capping just past the int range keeps the product exact where it matters and free of overflow.
            count = Math.min(count * d, Integer.MAX_VALUE + 1L);
        }
        if (count > Integer.MAX_VALUE)
            throw malformed(sourceName, where + " field 'shape': " + dims + " has more than 2^31 elements");

        List<Long> offsets = longs(fields.get("data_offsets"), 2, where + " field 'data_offsets'", sourceName);
        long begin = offsets.get(0), end = offsets.get(1);
        if (begin < 0 || end < 0)
            throw malformed(sourceName, where + " field 'data_offsets': negative offset in " + offsets);
        if (begin > end)
            throw malformed(sourceName, where + " field 'data_offsets': out of order, begin " + begin + " > end " + end);
        if (end - begin != count * encoding.bytes)
            throw malformed(sourceName, where + " field 'data_offsets' " + offsets + " spans " + (end - begin)
                    + " bytes but shape " + dims + " of " + dtype + " needs " + count * encoding.bytes);
        return new Entry(name, encoding, Shape.of(shape), begin, end);
    }

    /** A JSON array of integers; {@code length} -1 means any length. */
    private static List<Long> longs(Object value, int length, String where, String sourceName) {
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length))
            throw malformed(sourceName, where + " is missing or not an array of " + (length >= 0 ? length + " " : "") + "integers");
        List<Long> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Long l)) throw malformed(sourceName, where + " contains a non-integer");
            out.add(l);
        }
        return out;
    }

    private static void checkTiling(List<Entry> entries, long bufferLength, int dataStart, String sourceName) {
        List<Entry> byBegin = new ArrayList<>(entries);
        byBegin.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        String previous = null;
        for (Entry t : byBegin) {
            String where = "tensor " + JsonLite.quote(t.name) + " field 'data_offsets' [" + t.begin + ", " + t.end + "]";
            if (t.end > bufferLength)
                throw malformed(sourceName, "truncated: " + where + " runs past the data buffer, which has " + bufferLength
                        + " bytes (byte " + (dataStart + t.end) + " of a " + (dataStart + bufferLength) + "-byte file)");
            if (t.begin < expected)
                throw malformed(sourceName, where + " overlaps tensor " + JsonLite.quote(previous) + ", which ends at " + expected);
            if (t.begin > expected)
                throw malformed(sourceName, where + " leaves a gap: the data buffer is not covered from offset " + expected);
            expected = t.end;
            previous = t.name;
        }
        if (expected != bufferLength)
            throw malformed(sourceName, (bufferLength - expected) + " unclaimed bytes in the data buffer from byte "
                    + (dataStart + expected) + " to the end of the file");
    }

    public static void write(Path path, Map<String, HostTensor> tensors) { write(path, tensors, Map.of()); }

    public static void write(Path path, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        FileBytes.write(path, toBytes(tensors, metadata));
    }

    /** F32 tensors laid out in map order; {@code metadata} may be empty, in which case no metadata entry is written. */
    public static byte[] toBytes(Map<String, HostTensor> tensors, Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            json.append(JsonLite.quote(METADATA_KEY)).append(":{");
            String sep = "";
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                json.append(sep).append(JsonLite.quote(m.getKey())).append(':').append(JsonLite.quote(m.getValue()));
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> t : tensors.entrySet()) {
            if (t.getKey().equals(METADATA_KEY))
                throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
            if (json.length() > 1) json.append(',');
            long size = 4L * t.getValue().size();
            json.append(JsonLite.quote(t.getKey())).append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] dims = t.getValue().shape().dims();
            for (int i = 0; i < dims.length; i++) json.append(i > 0 ? "," : "").append(dims[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + size).append("]}");
            offset += size;
        }
        json.append('}');
        // Padding keeps the data buffer 8-byte aligned, as the reference writer does.
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int paddedLength = (header.length + 7) / 8 * 8;
        if (8L + paddedLength + offset > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("tensors too large for one safetensors byte array: " + offset + " data bytes");

        byte[] out = new byte[8 + paddedLength + (int) offset];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(paddedLength);
        System.arraycopy(header, 0, out, 8, header.length);
        for (int i = 8 + header.length; i < 8 + paddedLength; i++) out[i] = ' ';
        int at = 8 + paddedLength;
        for (HostTensor t : tensors.values()) {
            ElementEncoding.encodeF32(t.data(), out, at);
            at += 4 * t.size();
        }
        return out;
    }

    private static MalformedFileException malformed(String sourceName, String detail) {
        return new MalformedFileException(sourceName + ": " + detail);
    }
}
