package dev.kiln.frontend.weights;

import dev.kiln.ir.HostTensor;
import dev.kiln.ir.KilnException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/** Where a model's weights come from, by state_dict name: {@code model.load(Weights.safetensors(path))}. */
public final class Weights {
    private Weights() {}

    /** Every tensor of a .safetensors file (PyTorch: {@code safetensors.torch.save_file(model.state_dict(), path)}). */
    public static Map<String, HostTensor> safetensors(Path file) { return Safetensors.read(file); }

    /** A directory of {@code <state_dict name>.npy} files, e.g. {@code block1.depthwise.weight.npy}. */
    public static Map<String, HostTensor> npyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) throw new KilnException("weights directory " + dir + " does not exist");
        Map<String, HostTensor> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".npy")).sorted().toList()) {
                String name = p.getFileName().toString();
                out.put(name.substring(0, name.length() - 4), Npy.read(p));
            }
        } catch (IOException e) {
            throw new KilnException("cannot list weights directory " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }
}
