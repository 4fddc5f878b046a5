package dev.kiln.backend.cpu;

import java.lang.management.ManagementFactory;

/**
 * Whether C2 will compile the generated kernels: without it (-Xint, -XX:TieredStopAtLevel below 4,
 * a client VM) the Vector API runs boxed in the interpreter or C1, tens to hundreds of times slower.
 */
final class JitFacts {
    private JitFacts() {}

    static String describe() {
        String info = System.getProperty("java.vm.info", "");
        if (info.contains("interpreted mode")) return "interpreter only (-Xint): the kernels will not be compiled; remove -Xint";
        var compiler = ManagementFactory.getCompilationMXBean();
        if (compiler == null) return "no JIT compiler in this VM";
        String stop = option("TieredStopAtLevel"), tiered = option("TieredCompilation");
        boolean c2 = !"true".equals(tiered) || stop == null || Integer.parseInt(stop) >= 4;
        return compiler.getName() + (c2 ? ", C2 on" : ", C2 off (TieredStopAtLevel=" + stop + "): Vector API kernels will be slow");
    }

    private static String option(String name) {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean == null ? null : bean.getVMOption(name).getValue();
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
