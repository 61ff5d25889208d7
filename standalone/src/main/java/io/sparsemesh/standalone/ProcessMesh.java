package io.sparsemesh.standalone;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every service of the mesh as its own JVM on loopback ports, started from the modules'
 * executable jars. Services start together; the router starts once they are all ready. Once a
 * service is ready, a {@link ProcessSupervisor} handles its unexpected exits by the restart policy.
 */
public final class ProcessMesh implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProcessMesh.class);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final Path home;
    private final Path logDirectory;
    private final List<ServiceProcess> processes = new ArrayList<>(); // guarded by this
    private final List<MeshTopology.Service> services = new ArrayList<>();
    private boolean closed;                                           // guarded by this
    private final ProcessSupervisor supervisor;

    /**
     * @param restartPolicy what happens when a service's process exits without being stopped by the mesh
     */
    public ProcessMesh(Path home, Path logDirectory, RestartPolicy restartPolicy) {
        this.home = home;
        this.logDirectory = logDirectory;
        this.supervisor = new ProcessSupervisor(restartPolicy, jvmOptions(), READY_TIMEOUT);
    }

    public void start(MeshTopology topology, Map<String, String> routerProperties) throws IOException, InterruptedException {
        Map<String, Integer> managementPorts = new HashMap<>();
        List<MeshTopology.Service> services = topology.services((name, target) -> {
            int grpcPort = freePort();
            int httpPort = freePort();
            target[0] = "127.0.0.1:" + grpcPort;
            managementPorts.put(name, httpPort);
            return Map.of("spring.grpc.server.port", Integer.toString(grpcPort), "server.port", Integer.toString(httpPort));
        });
        this.services.addAll(services);
        List<ServiceProcess> started = new ArrayList<>();
        for (MeshTopology.Service service : services) {
            ServiceProcess process = new ServiceProcess(service.name(), jar(service.module()),
                    asArguments(service.properties()), managementPorts.get(service.name()), logDirectory);
            startProcess(process);
            started.add(process);
        }
        for (ServiceProcess process : started) {
            process.awaitReady(READY_TIMEOUT);
        }
        started.forEach(supervisor::watch);

        Map<String, String> router = new HashMap<>(topology.routerProperties(services));
        router.putAll(routerProperties);
        int routerHttpPort = Integer.parseInt(router.getOrDefault("server.port", "8081"));
        ServiceProcess routerProcess = new ServiceProcess("router", jar("router-service"), asArguments(router),
                routerHttpPort, logDirectory);
        startProcess(routerProcess);
        routerProcess.awaitReady(READY_TIMEOUT);
        supervisor.watch(routerProcess);
    }

    /** Starts the gateway's executable jar and waits until it is ready on {@code managementPort}. */
    void startGateway(Map<String, String> properties, int managementPort) throws IOException, InterruptedException {
        ServiceProcess gateway = new ServiceProcess("gateway", jar("gateway"), asArguments(properties), managementPort,
                logDirectory);
        startProcess(gateway);
        gateway.awaitReady(READY_TIMEOUT);
        supervisor.watch(gateway);
    }

    /**
     * Starts {@code process} and adds it to the processes {@link #close} stops. Both happen under the
     * lock that {@link #close} takes, so a close from a shutdown hook during start-up either stops
     * the process or comes first and keeps it from starting.
     */
    private synchronized void startProcess(ServiceProcess process) throws IOException {
        if (closed) {
            throw new IllegalStateException("the mesh was closed during start-up; " + process.name() + " was not started");
        }
        process.start(jvmOptions());
        processes.add(process);
    }

    /** The running processes, in start order. */
    public synchronized List<ServiceProcess> processes() {
        return List.copyOf(processes);
    }

    /** The services started by {@link #start}, without the router, each with its gRPC target. */
    public List<MeshTopology.Service> services() {
        return List.copyOf(services);
    }

    private Path jar(String module) {
        return home.resolve(module).resolve("target").resolve(module + "-0.1.0-SNAPSHOT-exec.jar");
    }

    public static List<String> jvmOptions() {
        return List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dai.djl.offline=true", "-XX:+UseSerialGC", "-Xss4m");
    }

    private static List<String> asArguments(Map<String, String> properties) {
        List<String> arguments = new ArrayList<>();
        properties.forEach((key, value) -> arguments.add(key + "=" + value));
        return arguments;
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }

    /**
     * Stops restarting, then stops the router first and the services after it. Safe to call from
     * another thread while {@link #start} runs, and more than once.
     */
    @Override
    public void close() {
        List<ServiceProcess> running;
        synchronized (this) {
            closed = true;
            running = new ArrayList<>(processes);
            processes.clear();
            services.clear();
        }
        supervisor.close();
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).stop(STOP_GRACE);
        }
        log.info("Mesh stopped");
    }
}
