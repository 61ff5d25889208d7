package io.sparsemesh.standalone;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.log.broker.EmbeddedKafkaBroker;
import io.sparsemesh.router.RouterProperties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./sparsemesh serve}: the whole mesh on this machine, either every service in this JVM
 * over in-process gRPC (the default) or every service as its own process on loopback ports.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the whole mesh: tokenizer, attention, expert shards, router and gateway (OpenAI API on"
                + " 127.0.0.1:8080), with a Kafka broker for the request log.")
final class ServeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH", description = "Checkpoint to serve (default: the bundled stories260K).")
    private Path model;

    @Option(names = "--mode", paramLabel = "embedded|processes", defaultValue = "embedded",
            description = "embedded: one JVM over in-process gRPC; processes: one process per service on loopback"
                    + " (default: ${DEFAULT-VALUE}).")
    private Mode mode;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "2", description = "Expert shards (default: ${DEFAULT-VALUE}).")
    private int shards;

    @Option(names = "--replicas", paramLabel = "R", defaultValue = "1",
            description = "Replicas of each expert shard (default: ${DEFAULT-VALUE}).")
    private int replicas;

    @Option(names = "--attention-replicas", paramLabel = "A", defaultValue = "1",
            description = "Attention replicas (default: ${DEFAULT-VALUE}).")
    private int attentionReplicas;

    @Option(names = "--wire-dtype", paramLabel = "bf16|f32", defaultValue = "bf16",
            description = "Element type of hidden states between services (default: ${DEFAULT-VALUE}).")
    private String wireDtype;

    @Option(names = "--ping-pong", description = "Run each step over two or more sequences as two micro-batches whose"
            + " attention and expert hops overlap.")
    private boolean pingPong;

    @Option(names = "--context", paramLabel = "N", description = "Context length in tokens (default: the model's, at most 4096).")
    private Integer contextLength;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
            description = "Port of the gateway, the mesh's public OpenAI-compatible API, on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    private int gatewayPort;

    @Option(names = "--kafka-bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Write the request log to this Kafka cluster instead of starting a broker in this process.")
    private String kafkaBootstrapServers;

    @Option(names = "--router-port", paramLabel = "PORT", defaultValue = "8081",
            description = "HTTP port of the router's OpenAI-compatible API on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    private int routerPort;

    @Option(names = "--router-grpc-port", paramLabel = "PORT", defaultValue = "9081",
            description = "gRPC port of the router's Generation API on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    private int routerGrpcPort;

    @Option(names = "--restart", paramLabel = "on-failure|no", defaultValue = "on-failure",
            description = "With --mode processes: on-failure restarts a service whose process exits with a non-zero"
                    + " code, on its ports, after 1 s doubling to 30 s, and leaves it down after 5 restarts within 10"
                    + " minutes; no leaves it down at once (default: ${DEFAULT-VALUE}).")
    private String restart;

    enum Mode { embedded, processes }

    @Override
    public Integer call() throws Exception {
        checkPositive("--shards", shards);
        checkPositive("--replicas", replicas);
        checkPositive("--attention-replicas", attentionReplicas);
        checkPort("--port", gatewayPort);
        checkPort("--router-port", routerPort);
        checkPort("--router-grpc-port", routerGrpcPort);
        // the same check as generate's: one prompt token and one generated token at least
        if (contextLength != null && contextLength < 2) {
            throw new ParameterException(spec.commandLine(), "--context must be >= 2 tokens, got " + contextLength);
        }
        RestartPolicy restartPolicy;
        try {
            restartPolicy = RestartPolicy.onFailure().withMode(RestartPolicy.Mode.parse(restart));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--restart: " + e.getMessage());
        }
        String dtype = wireDtype.toUpperCase(Locale.ROOT);
        if (!dtype.equals("BF16") && !dtype.equals("F32")) {
            throw new ParameterException(spec.commandLine(), "--wire-dtype must be bf16 or f32, got " + wireDtype);
        }
        Path modelPath = model != null ? model : BundledModel.path();
        ModelConfig config;
        boolean hasTokenizer;
        try (ModelCheckpoint checkpoint = Checkpoints.open(modelPath, null)) {
            config = checkpoint.config();
            hasTokenizer = checkpoint.tokenizer() != null;
        }
        int context = contextLength != null ? contextLength
                : Math.min(config.maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        // A dense model has no routed experts: its dense FFNs are what the expert shards hold.
        String densePlacement = config.moe() == null ? "SHARDS" : "ROUTER";
        int units = config.moe() == null ? config.numLayers() : config.moe().numRoutedExperts();
        if (shards > units) {
            throw new ParameterException(spec.commandLine(), "--shards " + shards + " leaves shards empty: "
                    + modelPath.getFileName() + " has " + units + (config.moe() == null ? " dense layers" : " routed experts")
                    + " to spread; use at most " + units + " shards");
        }
        MeshTopology topology = new MeshTopology(modelPath, hasTokenizer, attentionReplicas, shards, replicas, dtype, densePlacement,
                context);

        Path home = Path.of(System.getProperty("sparsemesh.home", "."));
        ShutdownSteps shutdown = new ShutdownSteps();
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "sparsemesh-shutdown"));
        String bootstrapServers = kafkaBootstrapServers;
        if (bootstrapServers == null) {
            bootstrapServers = startBroker(shutdown).bootstrapServers();
        }
        Map<String, String> logSettings = Map.of("sparsemesh.log.kafka.bootstrap-servers", bootstrapServers);

        // One spool directory per served gateway port, so two meshes on one machine do not share a spool.
        Path spool = Path.of(System.getProperty("java.io.tmpdir"), "sparsemesh-spool", Integer.toString(gatewayPort));

        Map<String, String> router = new LinkedHashMap<>(logSettings);
        router.put("sparsemesh.log.spool.directory", spool.resolve("router").toString());
        router.put("server.port", Integer.toString(routerPort));
        router.put("spring.grpc.server.port", Integer.toString(routerGrpcPort));
        router.put("sparsemesh.router.ping-pong", Boolean.toString(pingPong));

        ApiKey apiKey = ApiKey.fromEnvironmentOrNew();
        int gatewayManagementPort = ProcessMesh.freePort();
        Map<String, String> gateway = new LinkedHashMap<>(logSettings);
        gateway.put("sparsemesh.log.spool.directory", spool.resolve("gateway").toString());
        gateway.put("server.port", Integer.toString(gatewayPort));
        gateway.put("management.server.port", Integer.toString(gatewayManagementPort));
        gateway.put("sparsemesh.gateway.router-uri", "http://127.0.0.1:" + routerPort);
        gateway.put("sparsemesh.gateway.api-keys[0].id", apiKeyId(gatewayPort));
        gateway.put("sparsemesh.gateway.api-keys[0].sha256", apiKey.sha256());
        gateway.put("sparsemesh.gateway.api-keys[0].replenish-rate", "50");
        gateway.put("sparsemesh.gateway.api-keys[0].burst-capacity", "100");

        start(topology, router, gateway, gatewayManagementPort, home, restartPolicy, shutdown);

        String fileName = modelPath.getFileName().toString();
        String modelId = RouterProperties.defaultModelId(modelPath);
        System.err.printf("%nsparsemesh is serving %s (%s, model id \"%s\" in requests) in %s mode: %d attention replica(s), %d expert shard(s) x %d"
                        + " replica(s), %s on the wire%s.%n  OpenAI API (gateway): http://127.0.0.1:%d/v1%n"
                        + "  Router, internal: http://127.0.0.1:%d/v1 and gRPC 127.0.0.1:%d%n  Kafka request log: %s%n",
                fileName, config.architecture(), modelId, mode, attentionReplicas, shards, replicas,
                dtype.toLowerCase(Locale.ROOT), pingPong ? ", ping-pong on" : "", gatewayPort, routerPort, routerGrpcPort, bootstrapServers);
        if (apiKey.generated()) {
            System.err.printf("  API key (shown once; set %s to choose your own): %s%n", ApiKey.ENVIRONMENT_VARIABLE,
                    apiKey.value());
        } else {
            System.err.printf("  API key: the value of %s%n", ApiKey.ENVIRONMENT_VARIABLE);
        }
        System.err.println("Press Ctrl-C to stop.");
        shutdown.awaitStopped();
        return 0;
    }

    /**
     * Returns the id of the API key {@code serve} configures. The gateway's Redis rate-limit bucket
     * and the request log are keyed by this id, so it names the gateway port: two {@code serve}
     * instances on one machine and one Redis then keep separate buckets, and a restarted instance
     * keeps its own.
     */
    static String apiKeyId(int gatewayPort) {
        return "standalone-" + gatewayPort;
    }

    /**
     * Starts a KRaft broker on 127.0.0.1:9092 (9093 for its controller), or on free ports when
     * those are taken. Its data lives in a new temporary directory: a broker restarted on the data
     * of one that was killed waits for the old registration to expire before it serves.
     */
    private static EmbeddedKafkaBroker startBroker(ShutdownSteps shutdown) throws java.io.IOException {
        Path dataDirectory = java.nio.file.Files.createTempDirectory("sparsemesh-kafka-");
        shutdown.add("the Kafka data in " + dataDirectory, () -> deleteRecursively(dataDirectory));
        EmbeddedKafkaBroker broker = portsFree(9092, 9093)
                ? new EmbeddedKafkaBroker(dataDirectory, 9092, 9093)
                : EmbeddedKafkaBroker.onFreePorts(dataDirectory);
        shutdown.add("the Kafka broker", broker);
        broker.start();
        return broker;
    }

    private static void deleteRecursively(Path directory) {
        try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(directory)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (java.io.IOException e) {
            System.err.println("Failed to delete the Kafka data in " + directory + ": " + e.getMessage());
        }
    }

    private void checkPort(String option, int port) {
        if (port < 1 || port > 65535) {
            throw new ParameterException(spec.commandLine(), option + " must be a port in [1, 65535], got " + port);
        }
    }

    private static boolean portsFree(int... ports) {
        for (int port : ports) {
            try (java.net.ServerSocket socket = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
            } catch (java.io.IOException e) {
                return false;
            }
        }
        return true;
    }

    /** Starts the mesh, added to {@code shutdown} before its first service starts. */
    private void start(MeshTopology topology, Map<String, String> router, Map<String, String> gateway,
                       int gatewayManagementPort, Path home, RestartPolicy restartPolicy, ShutdownSteps shutdown)
            throws Exception {
        if (mode == Mode.embedded) {
            EmbeddedMesh mesh = new EmbeddedMesh();
            shutdown.add("the mesh", mesh);
            try {
                mesh.start(topology, router);
                mesh.startGateway(gateway);
            } catch (RuntimeException e) {
                mesh.close();
                throw e;
            }
            return;
        }
        ProcessMesh mesh = new ProcessMesh(home, home.resolve("target").resolve("sparsemesh-logs"), restartPolicy);
        shutdown.add("the mesh", mesh);
        try {
            mesh.start(topology, router);
            mesh.startGateway(gateway, gatewayManagementPort);
        } catch (Exception e) {
            mesh.close();
            throw e;
        }
    }

    private void checkPositive(String option, int value) {
        if (value < 1) {
            throw new ParameterException(spec.commandLine(), option + " must be >= 1, got " + value);
        }
    }
}
