package dev.kiln.frontend.onnx;

import dev.kiln.frontend.onnx.OnnxTestModel.Proto;
import dev.kiln.ir.MalformedFileException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The wire format: varints, fixed-width values, length-delimited fields, packed and unpacked repeats, and its errors. */
class ProtoReaderTest {
    static ProtoReader reader(byte[] b) { return new ProtoReader(b, "t.onnx", "Msg"); }

    @Test
    void readsVarintsOfEveryLengthIncludingNegativeInt64() {
        long[] values = {0, 1, 127, 128, 300, 1L << 35, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        Proto p = new Proto();
        for (long v : values) p.varint(1, v);
        ProtoReader r = reader(p.toByteArray());
        for (long v : values) {
            assertTrue(r.next());
            assertEquals(1, r.field());
            assertEquals(v, r.varint());
        }
        assertFalse(r.next());
    }

    @Test
    void readsRepeatedFieldsPackedOrOneByOne() {
        byte[] b = new Proto().packedVarints(8, 3, -1, 500).varint(8, 7).packedFloats(7, 1.5f, -2f).f32(7, 0.25f).toByteArray();
        ProtoReader r = reader(b);
        ProtoReader.LongList ints = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        while (r.next()) {
            if (r.field() == 8) r.int64s(ints);
            else r.floats(floats);
        }
        assertArrayEquals(new long[]{3, -1, 500, 7}, ints.toArray());
        assertArrayEquals(new float[]{1.5f, -2f, 0.25f}, floats.toArray());
    }

    @Test
    void nestedMessagesKeepAbsoluteOffsetsAndSkipUnknownFields() {
        byte[] b = new Proto().varint(99, 5).message(2, new Proto().string(1, "name").f32(3, 1f)).toByteArray();
        ProtoReader r = reader(b);
        assertTrue(r.next());
        r.skip();
        assertTrue(r.next());
        ProtoReader inner = r.message("Inner");
        assertTrue(inner.next());
        assertEquals(5, inner.tagOffset(), "field 99 takes 3 bytes (2 of tag, 1 of value), the outer tag and length 2 more");
        assertEquals("name", inner.string());
        assertTrue(inner.next());
        inner.skip();
        assertFalse(inner.next());
        assertFalse(r.next());
    }

    @Test
    void aLengthPastTheEndIsTruncationAtItsOffset() {
        byte[] b = new Proto().varint(1, 1).string(2, "hello").toByteArray();
        byte[] cut = java.util.Arrays.copyOf(b, b.length - 2);
        ProtoReader r = reader(cut);
        assertTrue(r.next());
        r.varint();
        assertTrue(r.next());
        var e = assertThrows(MalformedFileException.class, r::string);
        assertTrue(e.getMessage().startsWith("t.onnx: at byte 3: truncated"), e.getMessage());
    }

    @Test
    void anUnfinishedVarintIsTruncation() {
        var e = assertThrows(MalformedFileException.class, () -> { ProtoReader r = reader(new byte[]{0x08, (byte) 0x80}); r.next(); r.varint(); });
        assertTrue(e.getMessage().contains("at byte 1: truncated varint"), e.getMessage());
    }

    @Test
    void groupWireTypesAndFieldZeroAreNotProtobufAsOnnxWritesIt() {
        var group = assertThrows(MalformedFileException.class, () -> reader(new byte[]{0x0B}).next());
        assertTrue(group.getMessage().contains("invalid wire type 3"), group.getMessage());
        var zero = assertThrows(MalformedFileException.class, () -> reader(new byte[]{0x00, 0x01}).next());
        assertTrue(zero.getMessage().contains("at byte 0: invalid field number 0"), zero.getMessage());
    }

    @Test
    void aFieldOfTheWrongWireTypeIsNamed() {
        ProtoReader r = reader(new Proto().string(1, "x").toByteArray());
        assertTrue(r.next());
        var e = assertThrows(MalformedFileException.class, r::varint);
        assertTrue(e.getMessage().contains("field 1 of Msg has wire type 2, expected 0"), e.getMessage());
    }
}
