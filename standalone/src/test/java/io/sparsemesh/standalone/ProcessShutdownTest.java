package io.sparsemesh.standalone;

import io.sparsemesh.log.ParentProcessWatch;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Service processes left behind by {@code serve}: a mesh closed from another thread while it
 * starts, as serve's shutdown hook does on SIGTERM, leaves no service running, and a service whose
 * parent process is killed with SIGKILL exits by itself. The timeouts below only keep a broken
 * shutdown from hanging the build.
 */
class ProcessShutdownTest {

    private static final Path ROOT = ProcessMeshTest.repositoryRoot();
    private static final MeshTopology TOPOLOGY = new MeshTopology(ROOT.resolve("models/stories260K/stories260K.gguf"),
            false, 1, 1, 1, "F32", "SHARDS", 128);

    @Test
    void closeDuringStartStopsServices() throws Exception {
        ProcessMesh mesh = new ProcessMesh(ROOT, ROOT.resolve("standalone/target/test-mesh-logs/close-during-start"),
                RestartPolicy.onFailure());
        CompletableFuture<Void> start = CompletableFuture.runAsync(() -> {
            try {
                mesh.start(TOPOLOGY, Map.of("server.port", Integer.toString(ProcessMesh.freePort()),
                        "spring.grpc.server.port", Integer.toString(ProcessMesh.freePort())));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        while (mesh.processes().isEmpty()) {
            Thread.sleep(10);
        }
        List<ProcessHandle> started = new ArrayList<>();
        mesh.processes().forEach(process -> ProcessHandle.of(process.pid()).ifPresent(started::add));

        mesh.close();

        ExecutionException failure = assertThrows(ExecutionException.class, () -> start.get(5, TimeUnit.MINUTES));
        assertInstanceOf(IllegalStateException.class, failure.getCause(), "start must fail once the mesh is closed");
        for (ProcessHandle process : started) {
            assertFalse(process.isAlive(), "process " + process.pid() + " still runs after close");
        }
        assertEquals(List.of(), serviceChildren(), "service processes still running after close");
        assertThrows(IllegalStateException.class, () -> mesh.startGateway(Map.of(), ProcessMesh.freePort()),
                "a closed mesh must start nothing");
    }

    @Test
    void serviceExitsWhenParentKilled() throws Exception {
        Path logs = ROOT.resolve("standalone/target/test-mesh-logs/parent-killed");
        MeshTopology.Service expert = TOPOLOGY.services((name, target) -> {
            target[0] = "unused";
            return Map.of("spring.grpc.server.port", Integer.toString(ProcessMesh.freePort()));
        }).stream().filter(service -> service.module().equals("expert-service")).findFirst().orElseThrow();
        int managementPort = ProcessMesh.freePort();
        List<String> properties = new ArrayList<>();
        expert.properties().forEach((key, value) -> properties.add(key + "=" + value));
        properties.add("server.port=" + managementPort);
        ServiceProcess service = new ServiceProcess("expert-parent-killed", expertJar(), properties, managementPort, logs);
        Files.deleteIfExists(service.logFile());

        Process parent = new ProcessBuilder("sleep", "600").start();
        try {
            List<String> jvmOptions = new ArrayList<>(ProcessMesh.jvmOptions());
            jvmOptions.add("-D" + ParentProcessWatch.PARENT_PID_PROPERTY + "=" + parent.pid());
            service.start(jvmOptions);
            service.awaitReady(Duration.ofMinutes(5));

            parent.destroyForcibly().waitFor();

            Process exited = service.onExit().get(5, TimeUnit.MINUTES);
            assertFalse(service.isAlive());
            assertEquals(0, exited.exitValue(), "the service should shut down as on SIGTERM");
            String log = Files.readString(service.logFile());
            assertTrue(log.contains("Stopping expert-service because its parent process " + parent.pid() + " exited"), log);
        } finally {
            parent.destroyForcibly();
            service.stop(Duration.ofSeconds(30));
        }
    }

    private static Path expertJar() {
        return ROOT.resolve("expert-service/target/expert-service-0.1.0-SNAPSHOT-exec.jar");
    }

    /** Returns the running child processes of this JVM that run a service's executable jar. */
    private static List<Long> serviceChildren() {
        return ProcessHandle.current().children()
                .filter(ProcessHandle::isAlive)
                .filter(child -> child.info().commandLine().orElse("").contains("-exec.jar"))
                .map(ProcessHandle::pid)
                .toList();
    }
}
