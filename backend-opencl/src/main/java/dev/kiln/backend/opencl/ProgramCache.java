package dev.kiln.backend.opencl;

import dev.kiln.ir.KilnException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Built programs of one device, keyed by the SHA-256 of the device (name, version, driver), the
 * build options and the source. In memory: the most recently used programs. On disk (when a
 * directory is given): the device binary of every program built, so another JVM skips the
 * compiler; a binary the driver rejects is rebuilt from source and replaced. The cache holds
 * one reference to each program it keeps and hands every caller a reference of its own.
 */
final class ProgramCache {
    static final String BUILD_OPTIONS = "";
    private static final int MEMORY_ENTRIES = 32, DISK_ENTRIES = 256;

    private final DeviceContext device;
    private final LinkedHashMap<String, cl_program> memory = new LinkedHashMap<>(16, 0.75f, true);
    private long sourceBuilds, binaryLoads, memoryHits;

    ProgramCache(DeviceContext device) { this.device = device; }

    /** How this cache has served requests so far. */
    record Stats(long sourceBuilds, long binaryLoads, long memoryHits) {}

    synchronized Stats stats() { return new Stats(sourceBuilds, binaryLoads, memoryHits); }

    /**
     * The built program for this source, from memory, disk (diskDir, may be null) or the
     * compiler. The caller owns the returned reference and must release it (ClObjects.release).
     */
    synchronized cl_program program(String source, Path diskDir) {
        String key = key(source);
        cl_program p = memory.get(key);
        if (p != null) {
            memoryHits++;
        } else {
            p = diskDir == null ? null : loadBinary(diskDir.resolve(key + ".bin"));
            if (p != null) binaryLoads++;
            else {
                p = buildFromSource(source);
                sourceBuilds++;
                if (diskDir != null) saveBinary(p, diskDir, key);
            }
            memory.put(key, p);
            evict();
        }
        ClObjects.retain(p);
        return p;
    }

    /** Releases every program the cache holds (programs still used by executables stay alive). */
    synchronized void clearMemory() {
        for (cl_program p : memory.values()) ClObjects.release(p);
        memory.clear();
    }

    private void evict() {
        Iterator<Map.Entry<String, cl_program>> it = memory.entrySet().iterator();
        while (memory.size() > MEMORY_ENTRIES && it.hasNext()) {
            ClObjects.release(it.next().getValue());
            it.remove();
        }
    }

    String key(String source) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((device.info().cacheKey() + "\n" + BUILD_OPTIONS + "\n").getBytes(StandardCharsets.UTF_8));
            md.update(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private cl_program buildFromSource(String source) {
        cl_program p;
        try {
            p = CL.clCreateProgramWithSource(device.context(), 1, new String[]{source}, null, null);
            ClObjects.created(ClObjects.Kind.PROGRAM);
        } catch (CLException e) {
            throw new KilnException("OpenCL could not create a program on " + device.info().describe() + ": " + e.getMessage(), e);
        }
        try {
            CL.clBuildProgram(p, 1, new cl_device_id[]{device.info().id()}, BUILD_OPTIONS, null, null);
            return p;
        } catch (CLException e) {
            String log = buildLog(p);
            ClObjects.release(p);
            throw new KilnException("OpenCL kernel build failed on " + device.info().describe() + " (" + e.getMessage() + ").\n"
                    + "Build log:\n" + log.strip() + "\nGenerated source:\n" + numbered(source), e);
        }
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            CL.clGetProgramBuildInfo(p, device.info().id(), CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(p, device.info().id(), CL.CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            return OpenClRuntime.cString(b);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /** The source with line numbers, so the build log's line references can be followed. */
    static String numbered(String source) {
        StringBuilder b = new StringBuilder();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) b.append(String.format("%5d| %s%n", i + 1, lines[i]));
        return b.toString();
    }

    private cl_program loadBinary(Path file) {
        if (!Files.isRegularFile(file)) return null;
        byte[] bin;
        try {
            bin = Files.readAllBytes(file);
            Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
        } catch (IOException e) {
            return null;
        }
        cl_program p = null;
        try {
            p = CL.clCreateProgramWithBinary(device.context(), 1, new cl_device_id[]{device.info().id()},
                    new long[]{bin.length}, new byte[][]{bin}, null, null);
            ClObjects.created(ClObjects.Kind.PROGRAM);
            CL.clBuildProgram(p, 1, new cl_device_id[]{device.info().id()}, BUILD_OPTIONS, null, null);
            return p;
        } catch (CLException e) {
            // a stale or damaged binary: rebuild from source, which overwrites it
            ClObjects.release(p);
            return null;
        }
    }

    /** Best effort: a cache directory that cannot be written only costs the next JVM a rebuild. */
    private void saveBinary(cl_program p, Path dir, String key) {
        try {
            long[] size = new long[1];
            CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
            if (size[0] <= 0) return;
            byte[] bin = new byte[(int) size[0]];
            CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(Pointer.to(bin)), null);
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, key, ".tmp");
            Files.write(tmp, bin);
            Files.move(tmp, dir.resolve(key + ".bin"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            prune(dir);
        } catch (IOException | CLException | UnsupportedOperationException e) {
            // keep going without the disk copy
        }
    }

    /** Keeps the newest DISK_ENTRIES binaries (loading one counts as using it). */
    private static void prune(Path dir) throws IOException {
        List<Path> bins;
        try (var files = Files.list(dir)) {
            bins = files.filter(f -> f.getFileName().toString().endsWith(".bin")).collect(Collectors.toList());
        }
        if (bins.size() <= DISK_ENTRIES) return;
        Map<Path, Long> used = new HashMap<>();
        for (Path b : bins) used.put(b, Files.getLastModifiedTime(b).toMillis());
        bins.sort(Comparator.comparing(used::get));
        for (Path old : bins.subList(0, bins.size() - DISK_ENTRIES)) Files.deleteIfExists(old);
    }
}
