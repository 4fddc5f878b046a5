package dev.kiln.frontend.weights;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;
import dev.kiln.ir.MalformedFileException;
import dev.kiln.ir.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class NpyTest {
    private static final String F = "weights.npy";

    // ---- an encoder written independently of Npy, straight from the format description ----

    /** Magic, version, header length of the right width, then the header text and the data bytes. */
    static byte[] npy(int major, String header, byte[] data) {
        byte[] h = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        // Version 1.0 has a u16 header length, later versions a u32.
        out.writeBytes(major == 1 ? new byte[] {(byte) h.length, (byte) (h.length >> 8)} : le32(h.length));
        out.writeBytes(h);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] npy(String descr, String shape, byte[] data) {
        return npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n", data);
    }

    static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    static MalformedFileException malformed(byte[] bytes) {
        return assertThrows(MalformedFileException.class, () -> Npy.read(bytes, F));
    }

    static void assertMentions(Exception e, String... parts) {
        assertTrue(e.getMessage().contains(F), () -> "no file name in: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "no '" + p + "' in: " + e.getMessage());
    }

    // ---- round trips ----

    @Test
    void roundTripsTensorsOfEveryRankThroughAFile(@TempDir Path dir) {
        for (Shape s : new Shape[] {Shape.scalar(), Shape.of(5), Shape.of(2, 3), Shape.of(2, 1, 3, 4), Shape.of(0), Shape.of(3, 0, 2)}) {
            HostTensor t = HostTensor.uniform(s, 7, -10, 10);
            Path p = dir.resolve("t" + s.rank() + ".npy");
            Npy.write(p, t);
            assertEquals(t, Npy.read(p), "shape " + s);
        }
    }

    @Test
    void roundTripsSpecialFloatValuesBitForBit() {
        float[] v = {Float.NaN, Float.POSITIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE};
        HostTensor back = Npy.read(Npy.toBytes(HostTensor.of(v, 5)), F);
        for (int i = 0; i < v.length; i++)
            assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back.data()[i]));
    }

    @Test
    void writesVersion1HeaderPaddedTo64BytesEndingInNewline() {
        byte[] b = Npy.toBytes(HostTensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(b, 8));
        int headerLength = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64);
        String header = new String(b, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
        assertTrue(header.endsWith("\n"));
        assertArrayEquals(f32(1, 2, 3, 4, 5, 6), Arrays.copyOfRange(b, 10 + headerLength, b.length));
    }

    @Test
    void writesOneElementTupleWithTrailingCommaAndScalarAsEmptyTuple() {
        assertTrue(new String(Npy.toBytes(HostTensor.zeros(3)), StandardCharsets.ISO_8859_1).contains("'shape': (3,), }"));
        assertTrue(new String(Npy.toBytes(HostTensor.zeros(Shape.scalar())), StandardCharsets.ISO_8859_1).contains("'shape': (), }"));
    }

    // ---- reading bytes built here, not by Npy ----

    @Test
    void readsHandBuiltFloat32File() {
        HostTensor t = Npy.read(npy("<f4", "(2, 2)", f32(1.5f, -2f, 0.25f, 1e-8f)), F);
        assertEquals(HostTensor.of(new float[] {1.5f, -2f, 0.25f, 1e-8f}, 2, 2), t);
    }

    @Test
    void readsVersion2And3HeadersAndDoubleQuotedKeysInAnyOrder() {
        byte[] data = f32(1, 2, 3);
        assertEquals(HostTensor.of(new float[] {1, 2, 3}, 3),
                Npy.read(npy(2, "{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}", data), F));
        assertEquals(HostTensor.of(new float[] {1, 2, 3}, 1, 3),
                Npy.read(npy(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 3)}  \n", data), F));
    }

    @Test
    void readsScalarAndEmptyArrays() {
        assertEquals(HostTensor.of(new float[] {7}), Npy.read(npy("<f4", "()", f32(7)), F));
        assertEquals(HostTensor.zeros(0, 4), Npy.read(npy("<f4", "(0, 4)", new byte[0]), F));
    }

    @Test
    void convertsFloat64Float16Int64AndInt32ToFloat32() {
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3.5);
        assertEquals(HostTensor.of(new float[] {0.1f, -3.5f}, 2), Npy.read(npy("<f8", "(2,)", d.array()), F));
        // f16 bit patterns: 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504 (largest finite half).
        byte[] h = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B};
        assertEquals(HostTensor.of(new float[] {1, -2, 65504}, 3), Npy.read(npy("<f2", "(3,)", h), F));
        ByteBuffer l = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(1L << 40);
        assertEquals(HostTensor.of(new float[] {-5, 0x1p40f}, 2), Npy.read(npy("<i8", "(2,)", l.array()), F));
        assertEquals(HostTensor.of(new float[] {-1, 123456}, 2),
                Npy.read(npy("<i4", "(2,)", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-1).putInt(123456).array()), F));
    }

    @Test
    void acceptsPython2LongSuffixAndUnparenthesisedOneElementShape() {
        assertEquals(HostTensor.zeros(2, 1), Npy.read(npy("<f4", "(2L, 1L)", f32(0, 0)), F));
        assertEquals(HostTensor.zeros(2), Npy.read(npy("<f4", "(2)", f32(0, 0)), F));
    }

    // ---- files written by NumPy itself (see fixtures/make_npy_fixture.py) ----

    @Test
    void readsFloat32FileWrittenByNumpy() throws Exception {
        HostTensor t = Npy.read(fixture("numpy_f32_2x3.npy"));
        assertEquals(HostTensor.of(new float[] {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 65504.0f}, 2, 3), t);
    }

    @Test
    void readsFloat64FileWrittenByNumpyRoundingToFloat32() throws Exception {
        HostTensor t = Npy.read(fixture("numpy_f64_4.npy"));
        assertEquals(HostTensor.of(new float[] {(float) 0.1, (float) -1e10, 3.0f, (float) (1.0 / 3.0)}, 4), t);
    }

    private Path fixture(String name) throws Exception {
        return Path.of(NpyTest.class.getResource("/fixtures/" + name).toURI());
    }

    // ---- malformed input: one test per way a file can be wrong ----

    @Test
    void rejectsFileShorterThanThePreamble() {
        assertMentions(malformed(new byte[] {(byte) 0x93, 'N', 'U'}), "truncated", "3 bytes");
        assertMentions(malformed(new byte[0]), "truncated");
    }

    @Test
    void rejectsBadMagic() {
        byte[] b = npy("<f4", "(1,)", f32(1));
        b[3] = 'X';
        assertMentions(malformed(b), "magic", "byte 3");
    }

    @Test
    void rejectsUnknownVersion() {
        byte[] b = npy("<f4", "(1,)", f32(1));
        b[6] = 4;
        assertMentions(malformed(b), "version 4.0", "byte 6");
    }

    @Test
    void rejectsHeaderLengthBeyondEndOfFile() {
        byte[] b = npy("<f4", "(1,)", f32(1));
        byte[] cut = Arrays.copyOf(b, 30);
        assertMentions(malformed(cut), "truncated", "header length", "byte 8");
    }

    @Test
    void refusesHugeHeaderLengthWithoutAllocating() {
        byte[] b = npy(2, "{}", new byte[0]);
        System.arraycopy(le32(-1), 0, b, 8, 4); // 4 GiB - 1
        assertMentions(malformed(b), "header length 4294967295", "byte 8", "limit");
    }

    @Test
    void rejectsHeaderThatIsNotADict() {
        assertMentions(malformed(npy(1, "['descr', '<f4']\n", new byte[0])), "byte 10", "expected '{'");
        assertMentions(malformed(npy(1, "{'descr' '<f4'}", new byte[0])), "byte 19", "expected ':'");
        assertMentions(malformed(npy(1, "{'descr': '<f4', 'shape': (3, x)}", new byte[0])), "byte 40");
        assertMentions(malformed(npy(1, "{'descr': '<f4", new byte[0])), "unterminated string");
    }

    @Test
    void rejectsMissingWrongTypedAndUnexpectedKeys() {
        assertMentions(malformed(npy(1, "{'descr': '<f4', 'shape': (1,)}", f32(1))), "'fortran_order'", "missing");
        assertMentions(malformed(npy(1, "{'descr': 4, 'fortran_order': False, 'shape': (1,)}", f32(1))), "'descr'", "not a string");
        assertMentions(malformed(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", f32(1))), "'x'", "unexpected");
    }

    @Test
    void rejectsUnknownDtypeNamingTheField() {
        assertMentions(malformed(npy("<c8", "(1,)", new byte[8])), "'descr'", "<c8");
        assertMentions(malformed(npy(">f4", "(1,)", new byte[4])), "'descr'", "big-endian");
    }

    @Test
    void rejectsFortranOrder() {
        byte[] b = npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f32(1, 2, 3, 4));
        assertMentions(malformed(b), "'fortran_order'", "column-major");
    }

    @Test
    void rejectsNegativeAndOversizedDimensions() {
        assertMentions(malformed(npy("<f4", "(2, -3)", new byte[0])), "'shape'", "negative dimension -3");
        assertMentions(malformed(npy("<f4", "(3000000000,)", new byte[0])), "'shape'", "too large");
        assertMentions(malformed(npy("<f4", "(65536, 65536)", new byte[0])), "'shape'", "2^31");
        assertMentions(malformed(npy("<f4", "(99999999999999999999999,)", new byte[0])), "too large");
    }

    @Test
    void rejectsDataShorterThanTheShapeNeeds() {
        byte[] b = npy("<f4", "(2, 3)", f32(1, 2, 3, 4, 5));
        int dataStart = b.length - 20;
        assertMentions(malformed(b), "truncated", "byte " + dataStart, "needs 24 bytes");
    }

    @Test
    void rejectsTrailingBytesAfterTheData() {
        byte[] b = npy("<f4", "(1,)", f32(1, 2));
        assertMentions(malformed(b), "4 unexpected bytes", "byte " + (b.length - 4));
    }

    @Test
    void reportsMissingFileByPath(@TempDir Path dir) {
        Path missing = dir.resolve("absent.npy");
        KilnException e = assertThrows(KilnException.class, () -> Npy.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void corruptedOrTruncatedFilesOnlyEverFailWithMalformedFileException() {
        byte[] good = Npy.toBytes(HostTensor.uniform(Shape.of(2, 3), 1, -1, 1));
        for (int n = 0; n < good.length; n++) {
            byte[] cut = Arrays.copyOf(good, n);
            assertThrows(MalformedFileException.class, () -> Npy.read(cut, F), "truncated to " + n);
        }
        SplittableRandom r = new SplittableRandom(42);
        for (int trial = 0; trial < 5000; trial++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + r.nextInt(3); k++) b[r.nextInt(128)] = (byte) r.nextInt(256);
            try {
                Npy.read(b, F);
            } catch (MalformedFileException expected) {
                assertTrue(expected.getMessage().startsWith(F + ": "));
            }
        }
    }
}
