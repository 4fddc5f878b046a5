package dev.kiln.test.kit;

import dev.kiln.ir.UnsupportedOpException;

/** Thrown by a check when a case cannot judge the property (it is counted, not failed). */
public final class Discard extends RuntimeException {
    public Discard(String why) { super(why, null, false, false); }

    /** A backend refused the graph with {@link UnsupportedOpException}: a documented limit, not a wrong result. */
    public static Discard refusal(UnsupportedOpException e) { return new Discard(REFUSED + e.getMessage()); }

    public static final String REFUSED = "refused by the backend: ";

    public boolean isRefusal() { return getMessage().startsWith(REFUSED); }
}
