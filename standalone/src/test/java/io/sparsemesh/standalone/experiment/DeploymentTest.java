package io.sparsemesh.standalone.experiment;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeploymentTest {

    private static SweepPoint point(SweepPoint.Kind kind, boolean pingPong) {
        return new SweepPoint(kind, 2, 1, 1, "bf16", pingPong, null, null, 8, 32, 32);
    }

    @Test
    void routerGetsPingPongSetting() {
        Map<String, String> on = Deployment.routerProperties(point(SweepPoint.Kind.MESH, true), 22001, 22002, 256, Map.of());
        Map<String, String> off = Deployment.routerProperties(point(SweepPoint.Kind.MESH, false), 22001, 22002, 256, Map.of());

        assertEquals("true", on.get("sparsemesh.router.ping-pong"));
        assertEquals("false", off.get("sparsemesh.router.ping-pong"));
        assertEquals("22001", on.get("server.port"));
        assertEquals("22002", on.get("spring.grpc.server.port"));
        assertEquals("256", on.get("sparsemesh.router.scheduler.context-length"));
    }

    @Test
    void extraPropertiesOverride() {
        Map<String, String> router = Deployment.routerProperties(Sweep.engineFor(point(SweepPoint.Kind.MESH, true)),
                22001, 22002, 256, Map.of("sparsemesh.router.ping-pong", "true", "sparsemesh.log.kafka.bootstrap-servers", "h:1"));

        assertEquals("true", router.get("sparsemesh.router.ping-pong"), "the engine's false is overridden");
        assertEquals("h:1", router.get("sparsemesh.log.kafka.bootstrap-servers"));
    }
}
