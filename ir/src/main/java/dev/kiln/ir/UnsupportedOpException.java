package dev.kiln.ir;

/** An op (or an op with these attributes) that a stage cannot handle. */
public class UnsupportedOpException extends KilnException {
    public UnsupportedOpException(String message) { super(message); }
    public UnsupportedOpException(String message, Throwable cause) { super(message, cause); }
}
