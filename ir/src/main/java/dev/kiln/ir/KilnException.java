package dev.kiln.ir;

/** Root of every error Kiln reports on purpose. Messages name the place and the values. */
public class KilnException extends RuntimeException {
    public KilnException(String message) { super(message); }
    public KilnException(String message, Throwable cause) { super(message, cause); }
}
