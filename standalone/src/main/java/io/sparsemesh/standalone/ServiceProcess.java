package io.sparsemesh.standalone;

import io.sparsemesh.log.ParentProcessWatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One service of the mesh running as its own JVM on loopback: started from its executable jar,
 * considered up when its Actuator readiness probe returns UP, stopped with SIGTERM (graceful
 * shutdown) and, after a grace period, killed. It may be started again after its process exited,
 * with the same command line, and its output is appended to the same log file.
 */
public final class ServiceProcess {

    private static final Logger log = LoggerFactory.getLogger(ServiceProcess.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Path jar;
    private final List<String> properties;
    private final int managementPort;
    private final Path logFile;
    private volatile Process process;
    private volatile boolean stopRequested;

    /**
     * @param properties     Spring properties as {@code key=value}, passed as {@code --key=value}
     * @param managementPort HTTP port of the service's Actuator endpoints
     */
    public ServiceProcess(String name, Path jar, List<String> properties, int managementPort, Path logDirectory) {
        this.name = name;
        this.jar = jar;
        this.properties = List.copyOf(properties);
        this.managementPort = managementPort;
        this.logFile = logDirectory.resolve(name + ".log");
    }

    public String name() {
        return name;
    }

    public int managementPort() {
        return managementPort;
    }

    public Path logFile() {
        return logFile;
    }

    /**
     * Starts the process. It gets this process's pid as {@value ParentProcessWatch#PARENT_PID_PROPERTY},
     * so that it exits when this process exits, unless {@code jvmOptions} sets another parent.
     */
    public void start(List<String> jvmOptions) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the executable jar of " + name + " is missing: " + jar
                    + "; build it with ./mvnw -DskipTests package");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        // The service exits when this process does, also when this process is killed with SIGKILL.
        String parentPid = "-D" + ParentProcessWatch.PARENT_PID_PROPERTY + "=";
        if (jvmOptions.stream().noneMatch(option -> option.startsWith(parentPid))) {
            command.add(parentPid + ProcessHandle.current().pid());
        }
        command.add("-jar");
        command.add(jar.toString());
        for (String property : properties) {
            command.add("--" + property);
        }
        Files.createDirectories(logFile.getParent());
        stopRequested = false;
        ProcessBuilder builder = new ProcessBuilder(command);
        // Services get the key's hash through their properties; the key itself stays in this process.
        builder.environment().remove(ApiKey.ENVIRONMENT_VARIABLE);
        process = builder
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        log.info("Started {} (pid {}), log in {}", name, process.pid(), logFile);
    }

    /** Waits until the readiness probe returns UP, and fails early when the process exits. */
    public void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Process starting = process;
        URI readiness = URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/readiness");
        while (System.nanoTime() < deadline) {
            if (!starting.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + starting.exitValue() + " during start-up;"
                        + " see " + logFile);
            }
            try {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(readiness)
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && response.body().contains("UP")) {
                    log.info("{} is ready", name);
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name + " was not ready after " + timeout.toSeconds() + " s; see " + logFile);
    }

    /** Returns the operating system's id of the running process, or -1 before {@link #start}. */
    public long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Returns a future completed with the current process when it exits. */
    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** Returns whether {@link #stop} was called since the last start, so that the process's exit is expected. */
    boolean stopRequested() {
        return stopRequested;
    }

    /** Kills the process at once (SIGKILL), as a crash would. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            log.info("Killed {}", name);
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Asks the service to shut down gracefully and kills it after {@code grace}. */
    public void stop(Duration grace) {
        stopRequested = true;
        Process running = process;
        if (running == null || !running.isAlive()) {
            return;
        }
        running.destroy();
        try {
            if (!running.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("{} did not stop within {} s; killing it", name, grace.toSeconds());
                running.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.destroyForcibly();
        }
        log.info("Stopped {}", name);
    }
}
