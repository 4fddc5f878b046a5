package dev.kiln.test.kit;

/**
 * Why a property failed on a case. {@code key} classifies the failure (an exception's class,
 * "values", "non-finite", "shape"): the shrinker keeps a smaller case only if it fails with the
 * same key, so it cannot wander off to a different bug. {@code summary} is one line;
 * {@code details} holds what the report prints below the case (both outputs, a stack trace).
 */
public record Failure(String key, String summary, String details) {
    public static Failure of(Throwable e) {
        StringBuilder trace = new StringBuilder(e.toString()).append('\n');
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t != e) trace.append("caused by ").append(t).append('\n');
            StackTraceElement[] st = t.getStackTrace();
            for (int i = 0; i < Math.min(st.length, 12); i++) trace.append("    at ").append(st[i]).append('\n');
        }
        String msg = String.valueOf(e.getMessage());
        int nl = msg.indexOf('\n');
        return new Failure(e.getClass().getSimpleName(), e.getClass().getSimpleName() + ": " + (nl < 0 ? msg : msg.substring(0, nl)), trace.toString());
    }
}
