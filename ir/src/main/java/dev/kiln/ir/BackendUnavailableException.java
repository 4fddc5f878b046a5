package dev.kiln.ir;

/** A backend cannot run on this machine (e.g. no OpenCL platform); the message says what to install. */
public class BackendUnavailableException extends KilnException {
    public BackendUnavailableException(String message) { super(message); }
    public BackendUnavailableException(String message, Throwable cause) { super(message, cause); }
}
