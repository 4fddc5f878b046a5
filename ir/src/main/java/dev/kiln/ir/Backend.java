package dev.kiln.ir;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A code generator for one kind of device, found through {@link java.util.ServiceLoader}.
 * It compiles an optimised, verified graph with static shapes into an {@link Executable}.
 */
public interface Backend {
    /** Short name used by targets and the CLI: "cpu", "opencl". */
    String name();

    /** Whether the backend can run here; if not, {@link #compile} throws BackendUnavailableException. */
    boolean isAvailable();

    /**
     * Why the backend cannot run here (what is missing and how to get it), or empty when it can.
     * Never throws. Tests and the CLI show this instead of guessing a reason.
     */
    default Optional<String> unavailability() {
        return isAvailable() ? Optional.empty() : Optional.of("backend '" + name() + "' cannot run here");
    }

    /**
     * What this backend sees of the machine, one fact per line ("vector width: 512 bits (16 floats)"),
     * for {@code kiln doctor}: the first thing to ask for when a user reports a problem. Never throws.
     */
    default List<String> facts() { return List.of(); }

    /**
     * Fusion passes of the default pipeline this backend does not want, by pass name ("fuse-attention"),
     * each with why: a fused kernel that is slower here than the ops it replaces. The runtime runs
     * the default pipeline without them and the fusion report shows each candidate as declined with
     * that reason; a pipeline the user chose runs as chosen. options are the target's, so a backend
     * may decide per device. Never throws.
     */
    default Map<String, String> declinedFusions(Map<String, String> options) { return Map.of(); }

    /**
     * Compiles g; options are backend-specific (e.g. "threads", "dump-code"). A key the backend
     * does not know is an error ({@link #requireKnownOptions}).
     */
    Executable compile(Graph g, Map<String, String> options);

    /**
     * Throws a KilnException naming every key of options that is not in known, and listing the
     * known ones. An unknown key is a typo or an option meant for another backend; ignoring it
     * would compile something other than what was asked for, without a word.
     */
    static void requireKnownOptions(String backend, Map<String, String> options, List<String> known) {
        List<String> unknown = options.keySet().stream().filter(k -> !known.contains(k)).sorted().toList();
        if (unknown.isEmpty()) return;
        throw new KilnException((unknown.size() == 1 ? "unknown option '" : "unknown options '") + String.join("', '", unknown)
                + "' for the " + backend + " backend; its options are " + String.join(", ", known));
    }
}
