package dev.kiln.ir;

/**
 * A run read an index outside its axis (a token id beyond the vocabulary, say) or one that is not
 * an integer: reported instead of reading another row or memory that is not the tensor's.
 */
public class InvalidIndexException extends KilnException {
    public InvalidIndexException(String message) { super(message); }
}
