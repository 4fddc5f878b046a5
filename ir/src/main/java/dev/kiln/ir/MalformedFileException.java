package dev.kiln.ir;

/** A file (IR text, npy, safetensors, ONNX, artifact) that cannot be read; the message names file and place. */
public class MalformedFileException extends KilnException {
    public MalformedFileException(String message) { super(message); }
    public MalformedFileException(String message, Throwable cause) { super(message, cause); }
}
