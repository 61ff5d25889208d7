package io.sparsemesh.standalone.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The machine a sweep ran on, with the load average before and after, since other work shares it. */
record MachineInfo(int cores, String cpu, long memoryBytes, String jdk, String os, String loadBefore, String loadAfter) {

    static MachineInfo now(String loadBefore) {
        return new MachineInfo(Runtime.getRuntime().availableProcessors(), cpuModel(), memory(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                loadBefore, loadAverage());
    }

    /** Returns the 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown". */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Returns the 1-minute load average from /proc/loadavg, or null where it cannot be read. */
    static Double loadAverage1m() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            return lines.stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static long memory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return 0;
    }

    String markdown() {
        return "- CPU: " + cores + " cores, " + cpu + "\n"
                + "- Memory: " + (memoryBytes >> 20) + " MiB\n"
                + "- JDK: " + jdk + "\n"
                + "- OS: " + os + "\n"
                + "- Load average (1, 5, 15 min) when this report's run of the command started: " + loadBefore
                + "; when it ended: " + loadAfter + ". The machine is shared, so other work competes with the mesh"
                + " for the cores.\n";
    }
}
