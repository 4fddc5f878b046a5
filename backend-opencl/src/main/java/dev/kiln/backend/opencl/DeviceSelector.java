package dev.kiln.backend.opencl;

import dev.kiln.ir.KilnException;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Chooses the device to compile for. The selector comes from the compile option "device", else
 * from the environment variable KILN_OPENCL_DEVICE, else the default applies: the first GPU if
 * there is one, else the first CPU device (else whatever device there is). A selector is one of
 * <ul>
 *   <li>{@code gpu}, {@code cpu}, {@code accelerator}: the first device of that type;</li>
 *   <li>{@code 2}: the device at that index in the listing (platforms in order, then their devices);</li>
 *   <li>{@code 0:1}: platform 0, device 1;</li>
 *   <li>anything else: the first device whose platform name, device name or device version
 *       contains it, ignoring case (e.g. {@code pocl}, {@code nvidia}, {@code rtx 3060}).</li>
 * </ul>
 */
final class DeviceSelector {
    private DeviceSelector() {}

    static final String OPTION = "device";
    static final String ENV = "KILN_OPENCL_DEVICE";

    /** The selector in force: the option, else the environment variable, else null (the default). */
    static String selectorFrom(Map<String, String> options, Function<String, String> env) {
        String s = options.get(OPTION);
        if (s == null || s.isBlank()) s = env.apply(ENV);
        return s == null || s.isBlank() ? null : s.strip();
    }

    static DeviceInfo select(List<DeviceInfo> devices, String selector) {
        if (devices.isEmpty()) throw new KilnException("no OpenCL device to select from");
        if (selector == null || selector.equalsIgnoreCase("default")) {
            for (DeviceInfo.Type t : List.of(DeviceInfo.Type.GPU, DeviceInfo.Type.CPU))
                for (DeviceInfo d : devices) if (d.type() == t) return d;
            return devices.getFirst();
        }
        String s = selector.toLowerCase(Locale.ROOT);
        for (DeviceInfo.Type t : DeviceInfo.Type.values())
            if (s.equals(t.name().toLowerCase(Locale.ROOT))) {
                for (DeviceInfo d : devices) if (d.type() == t) return d;
                throw noMatch(devices, selector, "there is no " + t + " device");
            }
        if (s.matches("\\d+")) {
            int i = Integer.parseInt(s);
            if (i < devices.size()) return devices.get(i);
            throw noMatch(devices, selector, "there are only " + devices.size() + " devices");
        }
        if (s.matches("\\d+:\\d+")) {
            int p = Integer.parseInt(s.substring(0, s.indexOf(':'))), d = Integer.parseInt(s.substring(s.indexOf(':') + 1));
            for (DeviceInfo dev : devices) if (dev.platformIndex() == p && dev.deviceIndex() == d) return dev;
            throw noMatch(devices, selector, "no device " + d + " on platform " + p);
        }
        for (DeviceInfo d : devices)
            if ((d.platformName() + " / " + d.name() + " / " + d.version()).toLowerCase(Locale.ROOT).contains(s)) return d;
        throw noMatch(devices, selector, "no platform name, device name or version contains it");
    }

    private static KilnException noMatch(List<DeviceInfo> devices, String selector, String why) {
        return new KilnException("no OpenCL device matches '" + selector + "' (option \"" + OPTION + "\" or " + ENV + "): "
                + why + ". Devices here: " + devices.stream().map(DeviceInfo::describe).collect(Collectors.joining("; "))
                + ". Selectors: gpu, cpu, accelerator, an index, platform:device, or part of a name.");
    }
}
