package io.sparsemesh.expert;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/** The resident set size of this process, read from Linux's {@code /proc/self/status}. */
final class ResidentMemory {

    private static final Logger log = LoggerFactory.getLogger(ResidentMemory.class);
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final AtomicBoolean failureLogged = new AtomicBoolean();

    private ResidentMemory() {
    }

    /** Returns the {@code VmRSS} line in bytes, or NaN where it cannot be read (e.g. not Linux). */
    static double bytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    return parseKiB(line.substring("VmRSS:".length())) * 1024.0;
                }
            }
            throw new IllegalStateException(STATUS + " has no VmRSS line");
        } catch (IOException | RuntimeException e) {
            // a gauge is read at every scrape, so the failure is logged once
            if (failureLogged.compareAndSet(false, true)) {
                log.warn("Cannot read the resident set size from {}; the resident memory gauge reports NaN", STATUS, e);
            }
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
