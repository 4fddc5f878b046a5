package dev.kiln.backend.opencl;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tiles the {@link Tuner} chose, kept on disk beside the program cache so a second compile
 * measures nothing. One text file, {@value #FILE}, one line per result:
 * {@code device-key <TAB> family <TAB> problem-key <TAB> tile <TAB> µs}, where the device key is
 * {@link DeviceInfo#cacheKey} (platform, device name, OpenCL version, driver version): another
 * device or driver never reads a tile measured elsewhere. A file that cannot be read or parsed
 * is reported once on the warning stream and treated as empty (it is rewritten on the next
 * save); tuning never fails because of its cache. Deleting the file clears it.
 */
final class TuningCache {
    static final String FILE = "tuned-tiles.tsv";
    static final String HEADER = "# kiln OpenCL tuned tiles v1: device-key, family, problem, tile, microseconds";

    private final Path file;
    private final PrintStream warnings;
    private final Map<String, String> lines = new TreeMap<>();

    /** @param dir the program cache directory, or null for a cache in memory only */
    private TuningCache(Path dir, PrintStream warnings) {
        this.file = dir == null ? null : dir.resolve(FILE);
        this.warnings = warnings;
    }

    static TuningCache open(Path dir, PrintStream warnings) {
        TuningCache c = new TuningCache(dir, warnings);
        c.load();
        return c;
    }

    Path file() { return file; }

    private void load() {
        if (file == null || !Files.exists(file)) return;
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            int n = 0;
            for (String line : all) {
                n++;
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split("\t");
                if (f.length != 5) throw new IllegalArgumentException("line " + n + " has " + f.length + " fields, expected 5");
                CpuDeviceGemm.Params.parse(f[3]);
                Double.parseDouble(f[4]);
                lines.put(key(f[0], f[1], f[2]), f[3] + "\t" + f[4]);
            }
        } catch (IOException | RuntimeException e) {
            lines.clear();
            warnings.println("kiln: warning: ignoring the OpenCL tuning cache " + file + " (" + e.getMessage()
                    + "); tiles will be measured again and the file rewritten");
        }
    }

    /** The cached tile for this device, family and problem, or null. */
    CpuDeviceGemm.Params get(String deviceKey, String family, CpuDeviceGemm.Problem p) {
        String v = lines.get(key(deviceKey, family, p.key()));
        return v == null ? null : CpuDeviceGemm.Params.parse(v.substring(0, v.indexOf('\t')));
    }

    void put(String deviceKey, String family, CpuDeviceGemm.Problem p, CpuDeviceGemm.Params t, double micros) {
        lines.put(key(deviceKey, family, p.key()), t + "\t" + String.format(java.util.Locale.ROOT, "%.1f", micros));
    }

    /**
     * Writes the file (through a temporary file and a rename, so a reader never sees half of it).
     * Other JVMs' results added since this one loaded are merged in first. A failure is a warning.
     */
    void save() {
        if (file == null) return;
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                TuningCache disk = new TuningCache(file.getParent(), new PrintStream(PrintStream.nullOutputStream()));
                disk.load();
                disk.lines.forEach(lines::putIfAbsent);
            }
            StringBuilder b = new StringBuilder(HEADER).append('\n');
            lines.forEach((k, v) -> b.append(k).append('\t').append(v).append('\n'));
            Path tmp = Files.createTempFile(file.getParent(), FILE, ".tmp");
            Files.writeString(tmp, b, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            warnings.println("kiln: warning: could not write the OpenCL tuning cache " + file + ": " + e.getMessage());
        }
    }

    int size() { return lines.size(); }

    private static String key(String deviceKey, String family, String problem) {
        return deviceKey.replace('\t', ' ').replace('\n', ' ') + "\t" + family + "\t" + problem;
    }
}
