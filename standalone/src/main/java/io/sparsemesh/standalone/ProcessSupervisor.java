package io.sparsemesh.standalone;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches the processes of a mesh and handles those that exit without being stopped by the mesh.
 * Every such exit is logged with the service's name, pid, exit code and log file. Under
 * {@link RestartPolicy.Mode#ON_FAILURE}, a process that exited with a non-zero code is started again
 * with its original command line, so it listens on the same ports and the other services' targets
 * still reach it. Restarts wait for the policy's back-off, and a service that exceeds the policy's
 * restart limit is left down with an error in the log, while the rest of the mesh keeps running.
 * Thread-safe.
 */
final class ProcessSupervisor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProcessSupervisor.class);

    private final RestartPolicy policy;
    private final List<String> jvmOptions;
    private final Duration readyTimeout;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("sparsemesh-supervisor").daemon().factory());
    private final Map<ServiceProcess, RestartHistory> histories = new HashMap<>(); // guarded by this
    private boolean closed;                                                        // guarded by this

    /**
     * @param jvmOptions   JVM options a restarted process starts with
     * @param readyTimeout how long a restarted process may take to become ready before a warning is logged
     */
    ProcessSupervisor(RestartPolicy policy, List<String> jvmOptions, Duration readyTimeout) {
        this.policy = policy;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.readyTimeout = readyTimeout;
    }

    /** Starts watching a started service, so that an exit the mesh did not request is handled by the policy. */
    synchronized void watch(ServiceProcess service) {
        histories.put(service, new RestartHistory(policy, System.nanoTime()));
        watchExit(service);
    }

    private void watchExit(ServiceProcess service) {
        long pid = service.pid();
        service.onExit().thenAccept(process -> exited(service, pid, process.exitValue()));
    }

    private void exited(ServiceProcess service, long pid, int exitCode) {
        synchronized (this) {
            if (closed || service.stopRequested()) {
                return;
            }
        }
        String exit = service.name() + " (pid " + pid + ") exited unexpectedly with code " + exitCode;
        if (policy.mode() == RestartPolicy.Mode.NO) {
            log.error("{}; it stays down because restarts are off (--restart no). Its log: {}", exit, service.logFile());
        } else if (exitCode == 0) {
            log.error("{}; on-failure restarts only non-zero exits, so it stays down. Its log: {}", exit,
                    service.logFile());
        } else {
            scheduleRestart(service, exit);
        }
    }

    /** Schedules the service's next restart after the policy's delay, or leaves it down when it used up its restarts. */
    private void scheduleRestart(ServiceProcess service, String failure) {
        Optional<Duration> delay;
        int restarts;
        synchronized (this) {
            if (closed) {
                return;
            }
            RestartHistory history = histories.get(service);
            delay = history.nextDelay(System.nanoTime());
            restarts = history.restartsInWindow();
            delay.ifPresent(wait -> timer.schedule(() -> restart(service), wait.toMillis(), TimeUnit.MILLISECONDS));
        }
        if (delay.isEmpty()) {
            log.error("{}; it was restarted {} times within {} min, so it stays down. Read its log {}, fix the cause"
                    + " and start serve again", failure, restarts, policy.window().toMinutes(), service.logFile());
        } else {
            log.warn("{}; restarting it in {} ms (restart {} of at most {} within {} min). Its log: {}", failure,
                    delay.get().toMillis(), restarts, policy.maxRestarts(), policy.window().toMinutes(),
                    service.logFile());
        }
    }

    /** Starts the service's process again on its ports, then waits for readiness on a virtual thread. */
    private void restart(ServiceProcess service) {
        synchronized (this) {
            if (closed) {
                return;
            }
            histories.get(service).started(System.nanoTime());
            try {
                service.start(jvmOptions);
            } catch (IOException | RuntimeException e) {
                log.warn("Starting {} again failed", service.name(), e);
                scheduleRestart(service, service.name() + " failed to start again (" + e.getMessage() + ")");
                return;
            }
            watchExit(service);
        }
        Thread.ofVirtual().name("sparsemesh-ready-" + service.name()).start(() -> awaitReady(service));
    }

    private void awaitReady(ServiceProcess service) {
        try {
            service.awaitReady(readyTimeout);
        } catch (IllegalStateException e) {
            // the exit watcher handles a process that exited before it became ready
            log.warn("{} did not become ready after its restart: {}", service.name(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops restarting: exits from now on are the mesh's own shutdown. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        timer.shutdownNow();
    }
}
