package io.sparsemesh.standalone;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Supervision of a process mesh with restarts on: stories260K with one attention replica, one
 * expert shard of one replica and the router, each its own JVM. The expert's process is killed,
 * as a crash would end it. The supervisor starts it again with its original ports, its readiness
 * and the router's return to UP, and a generation returns the tokens it returned before the kill.
 */
class ProcessMeshRestartTest {

    /** Upper bound for the restart to show; the policy waits 100 ms before it. */
    static final Duration RESTART_TIMEOUT = Duration.ofMinutes(2);

    @Test
    void killedExpertIsRestartedAndServes() throws Exception {
        Path root = ProcessMeshTest.repositoryRoot();
        Path model = root.resolve("models/stories260K/stories260K.gguf");
        MeshTopology topology = new MeshTopology(model, false, 1, 1, 1, "F32", "SHARDS", 128);
        RestartPolicy policy = new RestartPolicy(RestartPolicy.Mode.ON_FAILURE, Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofSeconds(60), 3, Duration.ofMinutes(10));
        int[] prompt = {1, 403, 407, 261, 378};

        try (ProcessMesh mesh = new ProcessMesh(root, root.resolve("standalone/target/test-mesh-logs/restart"), policy)) {
            int grpcPort = ProcessMesh.freePort();
            mesh.start(topology, Map.of("server.port", Integer.toString(ProcessMesh.freePort()),
                    "spring.grpc.server.port", Integer.toString(grpcPort)));
            ServiceProcess expert = process(mesh, "expert-0-0");
            ServiceProcess router = process(mesh, "router");
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
            try {
                int[] before = ProcessMeshTest.generate(channel, prompt);
                assertEquals(ProcessMeshTest.TOKENS, before.length, "tokens before the kill");

                long killedPid = expert.pid();
                expert.kill();
                long restartedPid = awaitRestart(expert, killedPid);
                assertNotEquals(killedPid, restartedPid);

                expert.awaitReady(RESTART_TIMEOUT);
                router.awaitReady(RESTART_TIMEOUT);
                assertTrue(expert.isAlive(), "the restarted expert exited again");
                assertArrayEquals(before, ProcessMeshTest.generate(channel, prompt), "tokens after the restart");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static ServiceProcess process(ProcessMesh mesh, String name) {
        return mesh.processes().stream().filter(process -> process.name().equals(name)).findFirst().orElseThrow();
    }

    /** Waits until the service runs under a pid other than {@code killedPid}, and returns the new pid. */
    private static long awaitRestart(ServiceProcess service, long killedPid) throws InterruptedException {
        long deadline = System.nanoTime() + RESTART_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (service.pid() != killedPid && service.isAlive()) {
                return service.pid();
            }
            Thread.sleep(100);
        }
        throw new AssertionError(service.name() + " was not restarted within " + RESTART_TIMEOUT.toSeconds()
                + " s; see " + service.logFile());
    }
}
