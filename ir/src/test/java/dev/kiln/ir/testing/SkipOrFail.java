package dev.kiln.ir.testing;

import dev.kiln.ir.Backend;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one place that decides what a test does when something it needs cannot run here (an
 * OpenCL platform, above all): on a developer's machine the test is skipped with the reason; under
 * CI (environment {@code CI=true}, set by .ci/run after it installs PoCL) it fails, so a CI run
 * can never pass by skipping a backend. Every module's tests call this instead of their own
 * {@code assumeTrue}.
 *
 * <p>The skip is JUnit's {@code TestAbortedException}: code that catches {@code Throwable}
 * around a test body (the property kit, {@code assertThrows}) must let it through, or a skip turns
 * into a failure on machines without OpenCL. {@link #isSkip} says whether a throwable is one.
 */
public final class SkipOrFail {
    private SkipOrFail() {}

    public static boolean underCi() { return "true".equalsIgnoreCase(System.getenv("CI")); }

    /** Skips the calling test (fails it under CI) because {@code why} cannot run here. */
    public static void unavailable(String why) {
        if (underCi()) Assertions.fail("CI=true, so this cannot be skipped: " + why);
        Assumptions.abort(why);
    }

    /** Returns normally when the backend can run here; else skips (fails under CI) with its reason. */
    public static void requireBackend(Backend backend) {
        backend.unavailability().ifPresent(SkipOrFail::unavailable);
    }

    /** As {@link #requireBackend(Backend)} for the backend of that name found on the class path (ServiceLoader). */
    public static void requireBackend(String name) {
        var found = java.util.ServiceLoader.load(Backend.class).stream().map(java.util.ServiceLoader.Provider::get)
                .filter(b -> b.name().equals(name)).findFirst();
        if (found.isEmpty()) unavailable("backend '" + name + "' is not on the class path");
        else requireBackend(found.get());
    }

    /** Whether t is (or is caused by) a skipped test, which catch-all blocks must rethrow untouched. */
    public static boolean isSkip(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause())
            if (c instanceof org.opentest4j.TestAbortedException) return true;
        return false;
    }
}
