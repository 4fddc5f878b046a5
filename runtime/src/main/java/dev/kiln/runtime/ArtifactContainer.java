package dev.kiln.runtime;

import dev.kiln.ir.MalformedFileException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The byte layout of a {@code .kiln} file, big-endian:
 * <pre>
 * offset 0   "KILN"                      magic
 *        4   u16 format version          (this build reads {@value #FORMAT_VERSION} only)
 *        6   u16 section count           (4, or 5 with ONNX)
 *        8   sections, in this order, each: 4-byte ASCII tag, u64 length, that many bytes
 *              MANI  manifest (UTF-8 key=value lines, see {@link Manifest})
 *              GRPH  optimised graph (UTF-8 text IR)
 *              FUSN  fusion report (UTF-8 text)
 *              WGHT  weights (safetensors)
 *              ONNX  optional: the ONNX model it was imported from, when its batch axis is dynamic,
 *                    so other batch sizes can be imported and compiled on first use
 *        end-32      SHA-256 of every byte before it
 * </pre>
 * Decoding checks the magic and version first, then every length against the file size before
 * any section is read (a truncated file is refused naming the section and byte offset), then the
 * checksum. Nothing in a section is ever run as code.
 */
final class ArtifactContainer {
    static final int FORMAT_VERSION = 1;
    static final List<String> TAGS = List.of("MANI", "GRPH", "FUSN", "WGHT"), OPTIONAL = List.of("ONNX");
    static final byte[] MAGIC = "KILN".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER = 8, SECTION_HEADER = 12, CHECKSUM = 32;

    private ArtifactContainer() {}

    private static String tag(int i) { return i < TAGS.size() ? TAGS.get(i) : OPTIONAL.get(i - TAGS.size()); }

    /** The four sections' bytes (then the optional ones), in {@link #TAGS} order, framed and checksummed. */
    static byte[] encode(List<byte[]> sections) {
        if (sections.size() < TAGS.size() || sections.size() > TAGS.size() + OPTIONAL.size())
            throw new IllegalArgumentException("an artifact has " + TAGS.size() + " sections and up to " + OPTIONAL.size() + " optional ones");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.writeBytes(ByteBuffer.allocate(4).putShort((short) FORMAT_VERSION).putShort((short) sections.size()).array());
        for (int i = 0; i < sections.size(); i++) {
            out.writeBytes(tag(i).getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(ByteBuffer.allocate(8).putLong(sections.get(i).length).array());
            out.writeBytes(sections.get(i));
        }
        out.writeBytes(sha256(out.toByteArray(), out.size()));
        return out.toByteArray();
    }

    /** The sections' bytes in {@link #TAGS} order; a MalformedFileException naming source and byte offset otherwise. */
    static List<byte[]> decode(byte[] file, String source) {
        long n = file.length;
        if (!Arrays.equals(file, 0, (int) Math.min(n, MAGIC.length), MAGIC, 0, (int) Math.min(n, MAGIC.length)))
            throw bad(source, "not a Kiln artifact: bad magic at byte 0 (expected \"KILN\")");
        if (n < HEADER)
            throw bad(source, "truncated: the file has " + n + " bytes, the header at byte 0 alone needs " + HEADER);
        ByteBuffer bb = ByteBuffer.wrap(file);
        int version = Short.toUnsignedInt(bb.getShort(4));
        if (version != FORMAT_VERSION)
            throw bad(source, "artifact format version " + version + " (byte 4) cannot be read by Kiln " + Kiln.VERSION
                    + ", which reads format " + FORMAT_VERSION + "; recompile the model with this Kiln (kiln compile)");
        int count = Short.toUnsignedInt(bb.getShort(6));
        if (count < TAGS.size() || count > TAGS.size() + OPTIONAL.size())
            throw bad(source, "section count " + count + " at byte 6, format " + FORMAT_VERSION + " has " + TAGS.size()
                    + " (and up to " + OPTIONAL.size() + " optional)");
        long end = n - CHECKSUM;
        List<byte[]> out = new ArrayList<>();
        long pos = HEADER;
        for (int t = 0; t < count; t++) {
            String tag = tag(t);
            if (pos + SECTION_HEADER > end)
                throw bad(source, "truncated: section " + tag + " header at byte " + pos + " needs " + SECTION_HEADER
                        + " bytes, but only " + Math.max(0, end - pos) + " remain before the " + CHECKSUM + "-byte checksum of a " + n + "-byte file");
            String found = new String(file, (int) pos, 4, StandardCharsets.ISO_8859_1);
            if (!found.equals(tag)) throw bad(source, "expected section " + tag + " at byte " + pos + ", found '" + printable(found) + "'");
            long length = bb.getLong((int) pos + 4);
            long start = pos + SECTION_HEADER;
            if (length < 0 || length > end - start)
                throw bad(source, "truncated: section " + tag + " at byte " + pos + " declares " + Long.toUnsignedString(length)
                        + " bytes, but only " + (end - start) + " remain before the " + CHECKSUM + "-byte checksum of a " + n + "-byte file");
            out.add(Arrays.copyOfRange(file, (int) start, (int) (start + length)));
            pos = start + length;
        }
        if (pos != end)
            throw bad(source, (end - pos) + " unexpected bytes after the last section, from byte " + pos);
        byte[] stored = Arrays.copyOfRange(file, (int) end, file.length), actual = sha256(file, (int) end);
        if (!MessageDigest.isEqual(stored, actual))
            throw bad(source, "checksum mismatch: the SHA-256 at byte " + end + " is " + hex(stored) + " but the content hashes to "
                    + hex(actual) + "; the file was modified or damaged after it was written");
        return out;
    }

    static byte[] sha256(byte[] bytes, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes, 0, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String hex(byte[] b) { return HexFormat.of().formatHex(b, 0, 8) + "..."; }

    private static String printable(String s) { return s.replaceAll("[^\\x20-\\x7e]", "?"); }

    private static MalformedFileException bad(String source, String detail) { return new MalformedFileException(source + ": " + detail); }
}
