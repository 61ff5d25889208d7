package io.sparsemesh.deploy;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docker-compose.yml} parses, runs an image of an existing module for each mesh service,
 * starts services only after the ones they call are healthy, publishes only the gateway's port
 * outside the monitoring profile, mounts the model read-only, and runs two replicas of each of
 * two expert shards.
 */
class ComposeFileTest {

    static final Set<String> MESH = Set.of("tokenizer", "attention", "expert-0", "expert-1", "router", "gateway");

    @Test
    @SuppressWarnings("unchecked")
    void stackStartsInOrderAndExposesOnlyTheGateway() {
        ComposeFile compose = DeploymentSettingsTest.compose();
        Map<String, Map<String, Object>> services = compose.services();
        assertTrue(services.keySet().containsAll(MESH), "services " + services.keySet());
        assertTrue(services.keySet().containsAll(Set.of("kafka", "redis")));
        assertTrue(((String) services.get("kafka").get("image")).startsWith("apache/kafka:"), "the official Kafka image");
        assertTrue(compose.environment("kafka").get("KAFKA_PROCESS_ROLES").contains("controller"), "Kafka runs in KRaft mode");

        Set<String> published = new TreeSet<>();
        for (Map.Entry<String, Map<String, Object>> entry : services.entrySet()) {
            String name = entry.getKey();
            Map<String, Object> service = entry.getValue();
            boolean optional = service.containsKey("profiles");
            if (!optional) {
                assertNotNull(service.get("healthcheck"), name + " has no health check");
                if (service.containsKey("ports")) {
                    published.add(name);
                }
            }
            String module = ComposeFile.module((String) service.get("image"));
            if (module != null) {
                assertTrue(MESH.contains(name), name);
                assertTrue(Files.isRegularFile(Repository.path(module + "/pom.xml")), name + " runs module " + module
                        + ", which does not exist");
            }
            if (service.get("depends_on") instanceof Map<?, ?> dependencies && !optional) {
                dependencies.forEach((dependency, condition) -> {
                    assertTrue(services.containsKey(dependency), name + " depends on unknown " + dependency);
                    assertEquals("service_healthy", ((Map<String, Object>) condition).get("condition"),
                            name + " must wait until " + dependency + " is healthy");
                });
            }
        }
        assertEquals(Set.of("gateway"), published, "services that publish ports");
        assertEquals(List.of("8080:8080"), services.get("gateway").get("ports"));

        assertEquals(Set.of("tokenizer", "attention", "expert-0", "expert-1"),
                ((Map<String, Object>) services.get("router").get("depends_on")).keySet());
        assertEquals(Set.of("router", "redis", "kafka"), ((Map<String, Object>) services.get("gateway").get("depends_on")).keySet());

        for (String expert : List.of("expert-0", "expert-1")) {
            assertEquals(2, ((Map<String, Object>) services.get(expert).get("deploy")).get("replicas"), expert);
        }
        for (String name : List.of("tokenizer", "attention", "expert-0", "expert-1", "router")) {
            List<String> volumes = (List<String>) services.get(name).get("volumes");
            String model = compose.interpolate(volumes.getFirst());
            assertTrue(model.endsWith(":/models:ro"), name + " must mount the model read-only: " + model);
            assertTrue(Files.isDirectory(Repository.path(model.substring(0, model.indexOf(':')))), model);
        }
        for (String optional : List.of("prometheus", "grafana")) {
            assertEquals(List.of("monitoring"), services.get(optional).get("profiles"), optional);
        }
    }

    /**
     * Checks that the ports the Compose file uses (health checks, router targets, the published
     * gateway port, Prometheus targets) are the ports the services listen on, as their
     * application.yaml and the container's environment set them.
     */
    @Test
    @SuppressWarnings("unchecked")
    void portsMatchTheServices() {
        ComposeFile compose = DeploymentSettingsTest.compose();
        Map<String, Integer> managementPorts = new java.util.HashMap<>();
        Map<String, Integer> grpcPorts = new java.util.HashMap<>();
        for (String name : MESH) {
            String module = ComposeFile.module((String) compose.service(name).get("image"));
            var binder = ServiceSettings.of(module).binder(compose.environment(name));
            int management = binder.bind("management.server.port", Integer.class)
                    .orElseGet(() -> binder.bind("server.port", Integer.class).get());
            managementPorts.put(name, management);
            binder.bind("spring.grpc.server.port", Integer.class).ifBound(port -> grpcPorts.put(name, port));

            List<String> test = (List<String>) ((Map<String, Object>) compose.service(name).get("healthcheck")).get("test");
            assertTrue(String.join(" ", test).contains("/dev/tcp/127.0.0.1/" + management + " "),
                    name + ": the health check must ask the management port " + management + ": " + test);
        }

        Map<String, String> router = compose.environment("router");
        assertEquals("attention:" + grpcPorts.get("attention"), router.get("SPARSEMESH_ROUTER_MESH_ATTENTION_0"));
        assertEquals("tokenizer:" + grpcPorts.get("tokenizer"), router.get("SPARSEMESH_ROUTER_MESH_TOKENIZER"));
        for (String shard : List.of("0", "1")) {
            assertEquals("dns:///expert-" + shard + ":" + grpcPorts.get("expert-" + shard),
                    router.get("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_" + shard));
        }
        int routerHttp = ServiceSettings.of("router-service").binder(router).bind("server.port", Integer.class).get();
        assertEquals("http://router:" + routerHttp, compose.environment("gateway").get("SPARSEMESH_GATEWAY_ROUTERURI"));
        int gatewayHttp = ServiceSettings.of("gateway").binder(compose.environment("gateway"))
                .bind("server.port", Integer.class).get();
        assertEquals(List.of(gatewayHttp + ":" + gatewayHttp), compose.service("gateway").get("ports"));

        Map<String, Object> config = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Repository.read("deploy/prometheus/prometheus.yml"));
        Map<String, Object> job = ((List<Map<String, Object>>) config.get("scrape_configs")).getFirst();
        for (Map<String, Object> dns : (List<Map<String, Object>>) job.get("dns_sd_configs")) {
            for (String name : (List<String>) dns.get("names")) {
                assertEquals(managementPorts.get(name), dns.get("port"), "Prometheus scrapes " + name + " on another port");
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void prometheusScrapesEveryMeshServiceOnItsManagementPort() {
        Map<String, Object> config = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Repository.read("deploy/prometheus/prometheus.yml"));
        Map<String, Object> job = ((List<Map<String, Object>>) config.get("scrape_configs")).getFirst();
        assertEquals("/actuator/prometheus", job.get("metrics_path"));
        Set<String> scraped = new TreeSet<>();
        for (Map<String, Object> dns : (List<Map<String, Object>>) job.get("dns_sd_configs")) {
            scraped.addAll((List<String>) dns.get("names"));
            assertFalse(dns.get("port").equals(9084), "scrape the management port, not gRPC");
        }
        assertEquals(new TreeSet<>(MESH), scraped);
    }
}
