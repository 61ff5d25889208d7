package io.sparsemesh.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Ends a service's JVM when the process that started it exits, so that the services of
 * {@code ./sparsemesh serve --mode processes} do not keep serving after {@code serve} is killed
 * with SIGKILL and cannot stop them. The parent passes its pid as the system property
 * {@value #PARENT_PID_PROPERTY}. The JVM exits through {@link System#exit}, so Spring Boot's
 * shutdown hook closes the application context as it does on SIGTERM.
 */
public final class ParentProcessWatch {

    /** System property with the pid of the process whose exit ends this JVM. */
    public static final String PARENT_PID_PROPERTY = "sparsemesh.parent-pid";

    private static final Logger log = LoggerFactory.getLogger(ParentProcessWatch.class);

    private ParentProcessWatch() {
    }

    /**
     * Exits this JVM once the process named by {@value #PARENT_PID_PROPERTY} exits, at once when it
     * is no longer running. Does nothing when the property is not set. Call it first in
     * {@code main}, so that a parent that dies during start-up also ends the service.
     *
     * @param service the service's name for the log line
     * @throws IllegalArgumentException when the property is not a process id
     */
    public static void exitWithParent(String service) {
        String value = System.getProperty(PARENT_PID_PROPERTY);
        if (value == null || value.isBlank()) {
            return;
        }
        long parentPid;
        try {
            parentPid = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PARENT_PID_PROPERTY + " must be a process id, got \"" + value + "\"");
        }
        log.info("{} exits when its parent process {} exits", service, parentPid);
        watch(parentPid).thenRun(() -> {
            log.warn("Stopping {} because its parent process {} exited, and no one is left to stop it", service,
                    parentPid);
            System.exit(0);
        });
    }

    /**
     * Returns a future completed when process {@code pid} has exited; already completed when no
     * such process is running.
     */
    static CompletableFuture<Void> watch(long pid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            return CompletableFuture.completedFuture(null);
        }
        return parent.get().onExit().thenApply(handle -> null);
    }
}
