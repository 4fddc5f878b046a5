package dev.kiln.ir;

/** A tensor's shape or dtype does not fit where it is used. */
public class ShapeException extends KilnException {
    public ShapeException(String message) { super(message); }
}
