package dev.kiln.frontend.weights;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    private static final String F = "model.safetensors";

    // ---- an encoder written independently of Safetensors, straight from the format description ----

    /** u64 little-endian header length, the header's UTF-8 bytes, then the data buffer. */
    static byte[] st(String headerJson, byte[] data) {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    static MalformedFileException malformed(byte[] bytes) {
        return assertThrows(MalformedFileException.class, () -> Safetensors.read(bytes, F));
    }

    static void assertMentions(Exception e, String... parts) {
        assertTrue(e.getMessage().contains(F), () -> "no file name in: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    // ---- round trips ----

    @Test
    void roundTripsTensorsOfEveryRankInMapOrderThroughAFile(@TempDir Path dir) {
        Map<String, HostTensor> in = new LinkedHashMap<>();
        in.put("z.scalar", HostTensor.of(new float[] {3.5f}));
        in.put("vector", HostTensor.uniform(Shape.of(7), 1, -1, 1));
        in.put("conv.weight", HostTensor.uniform(Shape.of(4, 3, 2, 2), 2, -1, 1));
        in.put("empty", HostTensor.zeros(0, 3));
        in.put("naïve \"quoted\"\\name", HostTensor.normal(Shape.of(2, 2), 3));
        Path p = dir.resolve("m.safetensors");
        Safetensors.write(p, in);
        Map<String, HostTensor> out = Safetensors.read(p);
        assertEquals(in, out);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
    }

    @Test
    void roundTripsAnEmptyFile() {
        assertEquals(Map.of(), Safetensors.read(Safetensors.toBytes(Map.of(), Map.of()), F));
    }

    @Test
    void writesMetadataFirstAndPadsHeaderWithSpacesToMultipleOf8() {
        byte[] b = Safetensors.toBytes(Map.of("w", HostTensor.of(new float[] {1, 2}, 2)), Map.of("format", "pt"));
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        assertArrayEquals(NpyTest.f32(1, 2), Arrays.copyOfRange(b, 8 + (int) n, b.length));
    }

    // ---- reading bytes built here, not by Safetensors ----

    @Test
    void readsHandBuiltFileOfEveryDtypeInHeaderOrderNotDataOrder() {
        // Data buffer: a (F32 [2,2]) at 0..16, b (F16 [2]) at 16..20, c (BF16 scalar) at 20..22, d (F64 [1]) at 22..30.
        ByteBuffer data = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.5f).putFloat(-2f).putFloat(0.25f).putFloat(8f);
        data.putShort((short) 0x3C00).putShort((short) 0xC500); // f16 1.0 and -5.0
        data.putShort((short) 0x4049);                          // bf16: top half of f32 3.140625
        data.putDouble(0.1);
        String header = "{" + tensor("b", "F16", "[2]", 16, 20) + ","
                + tensor("a\\\"\\u00e9", "F32", "[2, 2]", 0, 16) + ","
                + "\"__metadata__\":{\"format\":\"pt\",\"note\":\"tab\\there\"},"
                + tensor("c", "BF16", "[]", 20, 22) + ","
                + tensor("d", "F64", "[1]", 22, 30) + "}   ";
        Map<String, HostTensor> m = Safetensors.read(st(header, data.array()), F);
        assertEquals(List.of("b", "a\"é", "c", "d"), List.copyOf(m.keySet()));
        assertEquals(HostTensor.of(new float[] {1, -5}, 2), m.get("b"));
        assertEquals(HostTensor.of(new float[] {1.5f, -2f, 0.25f, 8f}, 2, 2), m.get("a\"é"));
        assertEquals(HostTensor.of(new float[] {3.140625f}), m.get("c"));
        assertEquals(HostTensor.of(new float[] {(float) 0.1}, 1), m.get("d"));
    }

    @Test
    void readsZeroSizedTensorsAnywhereInTheBuffer() {
        String header = "{" + tensor("e1", "F32", "[0]", 0, 0) + "," + tensor("x", "F32", "[1]", 0, 4) + ","
                + tensor("e2", "F16", "[3, 0]", 4, 4) + "}";
        Map<String, HostTensor> m = Safetensors.read(st(header, NpyTest.f32(9)), F);
        assertEquals(HostTensor.zeros(0), m.get("e1"));
        assertEquals(HostTensor.zeros(3, 0), m.get("e2"));
        assertEquals(HostTensor.of(new float[] {9}, 1), m.get("x"));
    }

    // ---- malformed input: one test per way a file can be wrong ----

    @Test
    void rejectsFileShorterThan8Bytes() {
        assertMentions(malformed(new byte[] {1, 0, 0}), "truncated", "3 bytes", "byte 0");
    }

    @Test
    void rejectsHeaderLengthBeyondEndOfFile() {
        byte[] b = st("{}", new byte[0]);
        b[0] = 100;
        assertMentions(malformed(b), "truncated", "header length 100", "byte 0");
    }

    @Test
    void refusesHugeHeaderLengthWithoutAllocating() {
        byte[] b = st("{}", new byte[0]);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100L * 1024 * 1024 + 1);
        assertMentions(malformed(b), "header length 104857601", "byte 0", "limit");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertMentions(malformed(b), "header length 18446744073709551615", "limit");
    }

    @Test
    void rejectsHeaderThatIsNotJsonNamingTheByte() {
        assertMentions(malformed(st("{\"a\": nope}", new byte[0])), "not valid JSON", "byte 14");
        assertMentions(malformed(st("{\"é\": {}, }", new byte[0])), "not valid JSON", "byte 19"); // é is 2 bytes
        assertMentions(malformed(st("", new byte[0])), "not valid JSON", "byte 8");
        assertMentions(malformed(st("[1, 2]", new byte[0])), "not a JSON object");
        assertMentions(malformed(st("{\"a\":1.5}", new byte[0])), "only integers");
    }

    @Test
    void rejectsHeaderThatIsNotUtf8() {
        byte[] b = st("{\"x\":{}}", new byte[0]);
        b[10] = (byte) 0xC3; // a lead byte followed by an ASCII byte
        assertMentions(malformed(b), "not valid UTF-8");
    }

    @Test
    void rejectsDeeplyNestedHeaderWithoutOverflowingTheStack() {
        String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertMentions(malformed(st(deep, new byte[0])), "nested deeper");
    }

    @Test
    void rejectsUnknownDtypeNamingTheField() {
        assertMentions(malformed(st("{" + tensor("w", "Q4", "[1]", 0, 1) + "}", new byte[1])), "\"w\"", "'dtype'", "Q4");
        assertMentions(malformed(st("{" + tensor("w", "I64", "[1]", 0, 8) + "}", new byte[8])), "'dtype'", "I64");
    }

    @Test
    void rejectsShapeThatDisagreesWithOffsets() {
        byte[] b = st("{" + tensor("w", "F32", "[2, 3]", 0, 20) + "}", new byte[20]);
        assertMentions(malformed(b), "\"w\"", "'data_offsets'", "spans 20 bytes", "needs 24");
    }

    @Test
    void rejectsOverlappingOffsets() {
        String h = "{" + tensor("a", "F32", "[4]", 0, 16) + "," + tensor("b", "F32", "[4]", 8, 24) + "}";
        assertMentions(malformed(st(h, new byte[24])), "\"b\"", "'data_offsets' [8, 24]", "overlaps tensor \"a\"");
    }

    @Test
    void rejectsOffsetsOutOfOrder() {
        assertMentions(malformed(st("{" + tensor("w", "F32", "[0]", 8, 0) + "}", new byte[8])), "'data_offsets'", "out of order");
    }

    @Test
    void rejectsNegativeOffsets() {
        assertMentions(malformed(st("{" + tensor("w", "F32", "[1]", -4, 0) + "}", new byte[0])), "'data_offsets'", "negative");
    }

    @Test
    void rejectsOffsetsBeyondTheDataBuffer() {
        String h = "{" + tensor("w", "F32", "[4]", 0, 16) + "}";
        byte[] b = st(h, new byte[8]);
        assertMentions(malformed(b), "truncated", "'data_offsets' [0, 16]", "8 bytes", "byte " + (b.length + 8));
    }

    @Test
    void rejectsGapsAndUnclaimedBytesInTheBuffer() {
        assertMentions(malformed(st("{" + tensor("w", "F32", "[1]", 4, 8) + "}", new byte[8])), "gap", "offset 0");
        byte[] b = st("{" + tensor("w", "F32", "[1]", 0, 4) + "}", new byte[6]);
        assertMentions(malformed(b), "2 unclaimed bytes", "byte " + (b.length - 2));
    }

    @Test
    void rejectsNegativeAndOversizedDimensions() {
        assertMentions(malformed(st("{" + tensor("w", "F32", "[2, -1]", 0, 0) + "}", new byte[0])), "'shape'", "negative dimension -1");
        assertMentions(malformed(st("{" + tensor("w", "F32", "[4294967296]", 0, 0) + "}", new byte[0])), "'shape'", "too large");
        assertMentions(malformed(st("{" + tensor("w", "F32", "[65536, 65536]", 0, 0) + "}", new byte[0])), "'shape'", "2^31");
    }

    @Test
    void rejectsMissingOrMistypedFields() {
        assertMentions(malformed(st("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4])), "'dtype'", "missing");
        assertMentions(malformed(st("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4])), "'shape'", "missing");
        assertMentions(malformed(st("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4])), "'data_offsets'");
        assertMentions(malformed(st("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", new byte[4])), "'shape'");
        assertMentions(malformed(st("{\"w\":[]}", new byte[0])), "\"w\"", "not an object");
        assertMentions(malformed(st("{\"__metadata__\":{\"k\":[1]}}", new byte[0])), "'__metadata__.k'", "not a string");
    }

    @Test
    void reportsMissingFileByPath(@TempDir Path dir) {
        Path missing = dir.resolve("absent.safetensors");
        KilnException e = assertThrows(KilnException.class, () -> Safetensors.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void corruptedOrTruncatedFilesOnlyEverFailWithMalformedFileException() {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        m.put("a", HostTensor.uniform(Shape.of(2, 3), 1, -1, 1));
        m.put("b", HostTensor.zeros(2));
        byte[] good = Safetensors.toBytes(m, Map.of("k", "v"));
        for (int n = 0; n < good.length; n++) {
            byte[] cut = Arrays.copyOf(good, n);
            assertThrows(MalformedFileException.class, () -> Safetensors.read(cut, F), "truncated to " + n);
        }
        int headerEnd = good.length - 32;
        SplittableRandom r = new SplittableRandom(42);
        for (int trial = 0; trial < 5000; trial++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + r.nextInt(3); k++) b[r.nextInt(headerEnd)] = (byte) r.nextInt(256);
            try {
                Safetensors.read(b, F);
            } catch (MalformedFileException expected) {
                assertTrue(expected.getMessage().startsWith(F + ": "));
            }
        }
    }
}
