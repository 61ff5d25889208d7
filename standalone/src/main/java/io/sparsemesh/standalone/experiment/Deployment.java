package io.sparsemesh.standalone.experiment;

import io.sparsemesh.standalone.MeshTopology;
import io.sparsemesh.standalone.ProcessMesh;
import io.sparsemesh.standalone.RestartPolicy;
import io.sparsemesh.standalone.ServiceProcess;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The services behind one group of points: the mesh in processes mode with one topology, or the
 * router alone with attention and experts in its own process (the single-process engine
 * baseline). Every process listens on free loopback ports.
 */
public final class Deployment implements AutoCloseable {

    /** The model id the router is started with and the load generator sends. */
    public static final String MODEL_ID = "experiment";
    /**
     * The router property that splits each step into two micro-batches whose attention and expert
     * hops overlap.
     */
    static final String PING_PONG_PROPERTY = "sparsemesh.router.ping-pong";

    private static final Duration READY_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final List<ServiceProcess> processes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile ProcessMesh mesh;
    private volatile boolean closed;
    private int routerPort;
    private int routerGrpcPort;

    /**
     * Starts the services of {@code point} serving {@code model}. Call {@link #close()} from another
     * thread to abort a start: the processes started so far are stopped and the start fails.
     *
     * @param densePlacement   ROUTER or SHARDS, where dense FFNs run in the mesh
     * @param routerProperties further router properties, which override the ones the point sets
     */
    public void start(SweepPoint point, Path home, Path model, boolean hasTokenizer, String densePlacement,
                      int contextLength, Path logDirectory, Map<String, String> routerProperties) throws Exception {
        try {
            startProcesses(point, home, model, hasTokenizer, densePlacement, contextLength, logDirectory, routerProperties);
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private void startProcesses(SweepPoint point, Path home, Path model, boolean hasTokenizer, String densePlacement,
                                int contextLength, Path logDirectory, Map<String, String> routerProperties)
            throws Exception {
        routerPort = ProcessMesh.freePort();
        routerGrpcPort = ProcessMesh.freePort();
        Map<String, String> router = routerProperties(point, routerPort, routerGrpcPort, contextLength, routerProperties);

        if (point.kind() == SweepPoint.Kind.ENGINE) {
            router.put("sparsemesh.router.model", model.toAbsolutePath().toString());
            router.put("spring.application.name", "router");
            List<String> arguments = new ArrayList<>();
            router.forEach((key, value) -> arguments.add(key + "=" + value));
            ServiceProcess engine = new ServiceProcess("router", home.resolve("router-service/target/router-service-0.1.0-SNAPSHOT-exec.jar"),
                    arguments, routerPort, logDirectory);
            processes.add(engine);
            checkOpen();
            engine.start(ProcessMesh.jvmOptions());
            engine.awaitReady(READY_TIMEOUT);
            return;
        }
        MeshTopology topology = new MeshTopology(model, hasTokenizer, point.attentionReplicas(), point.shards(),
                point.replicas(), point.wireDtype().toUpperCase(Locale.ROOT), densePlacement, contextLength);
        // No restarts: a service that dies during a measured point must fail the point, not skew it.
        mesh = new ProcessMesh(home, logDirectory, RestartPolicy.no());
        checkOpen();
        mesh.start(topology, router);
        processes.addAll(mesh.processes());
        checkOpen();
    }

    /** Returns the router properties of {@code point}, with {@code extra} last so that it overrides them. */
    static Map<String, String> routerProperties(SweepPoint point, int httpPort, int grpcPort, int contextLength,
                                                Map<String, String> extra) {
        Map<String, String> router = new LinkedHashMap<>();
        router.put("server.port", Integer.toString(httpPort));
        router.put("spring.grpc.server.port", Integer.toString(grpcPort));
        router.put("sparsemesh.router.model-id", MODEL_ID);
        router.put("sparsemesh.router.scheduler.context-length", Integer.toString(contextLength));
        router.put(PING_PONG_PROPERTY, Boolean.toString(point.pingPong()));
        router.putAll(extra);
        return router;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the deployment was closed while it started");
        }
    }

    public int routerPort() {
        return routerPort;
    }

    public int routerGrpcPort() {
        return routerGrpcPort;
    }

    /** Returns a probe of every running service. */
    public List<ServiceProbe> probes() {
        List<ServiceProbe> probes = new ArrayList<>();
        for (ServiceProcess process : processes) {
            probes.add(new ServiceProbe(process.name(), process.pid(), process.managementPort()));
        }
        return probes;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (mesh != null) {
            mesh.close();
        } else {
            for (ServiceProcess process : processes) {
                process.stop(STOP_GRACE);
            }
        }
        processes.clear();
    }
}
