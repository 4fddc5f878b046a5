package dev.kiln.frontend.weights;

import dev.kiln.ir.KilnException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Whole-file reads and writes for the weight formats, with I/O failures turned into Kiln errors that name the path. */
final class FileBytes {
    // Java arrays stop a little short of 2^31; a larger file cannot be held as one byte[].
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 16;

    private FileBytes() {}

    static byte[] read(Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_ARRAY)
                throw new KilnException(path + ": file of " + size + " bytes is too large to load into memory (limit " + MAX_ARRAY + ")");
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new KilnException(path + ": no such file", e);
        } catch (IOException e) {
            throw new KilnException(path + ": cannot read: " + e, e);
        }
    }

    static void write(Path path, byte[] bytes) {
        try {
            Files.write(path, bytes);
        } catch (IOException e) {
            throw new KilnException(path + ": cannot write: " + e, e);
        }
    }
}
