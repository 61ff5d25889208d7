package io.sparsemesh.standalone;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
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
import java.util.concurrent.CountDownLatch;

/**
 * {@code ./sparsemesh serve}: the whole mesh on this machine, either every service in this JVM
 * over in-process gRPC (the default) or every service as its own process on loopback ports.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the whole mesh: tokenizer, attention, expert shards and router (OpenAI API on 127.0.0.1:8081).")
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

    @Option(names = "--context", paramLabel = "N", description = "Context length in tokens (default: the model's, at most 4096).")
    private Integer contextLength;

    @Option(names = "--router-port", paramLabel = "PORT", defaultValue = "8081",
            description = "HTTP port of the router's OpenAI-compatible API on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    private int routerPort;

    @Option(names = "--router-grpc-port", paramLabel = "PORT", defaultValue = "9081",
            description = "gRPC port of the router's Generation API on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    private int routerGrpcPort;

    enum Mode { embedded, processes }

    @Override
    public Integer call() throws Exception {
        checkPositive("--shards", shards);
        checkPositive("--replicas", replicas);
        checkPositive("--attention-replicas", attentionReplicas);
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
        MeshTopology topology = new MeshTopology(modelPath, hasTokenizer, attentionReplicas, shards, replicas, dtype, densePlacement,
                context);

        Map<String, String> router = new LinkedHashMap<>();
        router.put("server.port", Integer.toString(routerPort));
        router.put("spring.grpc.server.port", Integer.toString(routerGrpcPort));

        CountDownLatch stopped = new CountDownLatch(1);
        AutoCloseable mesh = start(topology, router);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                mesh.close();
            } catch (Exception e) {
                System.err.println("Failed to stop the mesh cleanly: " + e);
            }
            stopped.countDown();
        }, "sparsemesh-shutdown"));

        System.err.printf("%nsparsemesh is serving %s (%s) in %s mode: %d attention replica(s), %d expert shard(s) x %d"
                        + " replica(s), %s on the wire.%n  OpenAI API: http://127.0.0.1:%d/v1%n  Generation gRPC:"
                        + " 127.0.0.1:%d%nPress Ctrl-C to stop.%n", modelPath.getFileName(), config.architecture(), mode,
                attentionReplicas, shards, replicas, dtype.toLowerCase(Locale.ROOT), routerPort, routerGrpcPort);
        stopped.await();
        return 0;
    }

    private AutoCloseable start(MeshTopology topology, Map<String, String> router) throws Exception {
        if (mode == Mode.embedded) {
            EmbeddedMesh mesh = new EmbeddedMesh();
            mesh.start(topology, router);
            return mesh;
        }
        Path home = Path.of(System.getProperty("sparsemesh.home", "."));
        ProcessMesh mesh = new ProcessMesh(home, home.resolve("target").resolve("sparsemesh-logs"));
        try {
            mesh.start(topology, router);
        } catch (Exception e) {
            mesh.close();
            throw e;
        }
        return mesh;
    }

    private void checkPositive(String option, int value) {
        if (value < 1) {
            throw new ParameterException(spec.commandLine(), option + " must be >= 1, got " + value);
        }
    }
}
