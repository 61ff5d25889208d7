package io.sparsemesh.expert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The resident set size of this process, read from Linux's {@code /proc/self/status}. */
final class ResidentMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemory() {
    }

    /** Returns the {@code VmRSS} line in bytes, or NaN where {@code /proc} is missing (not Linux). */
    static double bytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    return parseKiB(line.substring("VmRSS:".length())) * 1024.0;
                }
            }
            return Double.NaN;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Parses a {@code /proc} size such as {@code "   123456 kB"} into KiB. */
    static long parseKiB(String value) {
        String trimmed = value.strip();
        if (!trimmed.endsWith("kB")) {
            throw new IllegalArgumentException("expected a size in kB, got '" + value + "'");
        }
        return Long.parseLong(trimmed.substring(0, trimmed.length() - 2).strip());
    }
}
