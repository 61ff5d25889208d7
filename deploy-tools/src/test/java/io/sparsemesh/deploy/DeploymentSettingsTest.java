package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.sparsemesh.expert.ExpertServiceProperties;
import io.sparsemesh.router.RouterProperties;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The settings the Compose file and the Kubernetes manifests give each container are settings the
 * service has: every {@code SPARSEMESH_*}, {@code SPRING_*}, {@code SERVER_*} and
 * {@code MANAGEMENT_*} variable names a property of the service's {@code @ConfigurationProperties}
 * records or of Spring's metadata, and the whole environment binds to the records as the service
 * would bind it at start-up. The router's shard list and the shards' indices agree.
 */
class DeploymentSettingsTest {

    static final Pattern CHECKED = Pattern.compile("(SPARSEMESH|SPRING|SERVER|MANAGEMENT)_.*");
    /** Values for the variables docker-compose.yml requires from the user. */
    static final Map<String, String> COMPOSE_VARIABLES = Map.of("SPARSEMESH_API_KEY_SHA256", "0".repeat(64));

    /** One container's environment and the module whose image it runs. */
    record Container(String source, String module, Map<String, String> environment) {
    }

    static ComposeFile compose() {
        return ComposeFile.load(Repository.read("docker-compose.yml"), COMPOSE_VARIABLES);
    }

    static List<Container> containers() {
        List<Container> containers = new ArrayList<>();
        ComposeFile compose = compose();
        compose.services().forEach((name, service) -> {
            String module = ComposeFile.module((String) service.get("image"));
            if (module != null) {
                containers.add(new Container("docker-compose.yml service " + name, module, compose.environment(name)));
            }
        });
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        List<HasMetadata> workloads = new ArrayList<>(objects.of(Deployment.class, "base/"));
        workloads.addAll(objects.of(StatefulSet.class, "base/"));
        for (HasMetadata workload : workloads) {
            String name = workload.getMetadata().getName();
            var container = objects.container("base/", name);
            String module = ComposeFile.module(container.getImage());
            if (module != null) {
                containers.add(new Container("k8s " + workload.getKind() + " " + name, module,
                        objects.environment(container, "base/")));
            }
        }
        return containers;
    }

    @TestFactory
    List<DynamicTest> everyVariableBindsToAProperty() {
        Map<String, ServiceSettings> services = new LinkedHashMap<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (Container container : containers()) {
            tests.add(DynamicTest.dynamicTest(container.source(), () -> {
                assertTrue(Files.isRegularFile(Repository.path(container.module() + "/pom.xml")),
                        container.source() + " runs the image of " + container.module() + ", which is no module");
                ServiceSettings settings = services.computeIfAbsent(container.module(), m -> ServiceSettings.of(m));
                PropertyCatalog catalog = settings.catalog();
                Binder binder = settings.binder(container.environment());
                int checked = 0;
                for (String variable : container.environment().keySet()) {
                    if (!CHECKED.matcher(variable).matches()) {
                        continue;
                    }
                    Optional<PropertyCatalog.Property> property = catalog.match(variable);
                    assertTrue(property.isPresent(), container.source() + " sets " + variable + ", which binds to no"
                            + " property of " + container.module());
                    String name = property.get().name();
                    if (!name.contains("*") && !name.startsWith("sparsemesh.")) {
                        binder.bind(name, Bindable.of(org.springframework.core.ResolvableType.forType(property.get().type())));
                    }
                    checked++;
                }
                assertTrue(checked > 0, container.source() + " sets no service setting");
                settings.bindRecords(binder);
            }));
        }
        return tests;
    }

    @Test
    void routerListsEveryShardAndShardsAgree() {
        ServiceSettings router = ServiceSettings.of("router-service");
        ServiceSettings expert = ServiceSettings.of("expert-service");
        for (String source : List.of("docker-compose.yml", "k8s")) {
            List<Container> containers = containers().stream().filter(c -> c.source().startsWith(source)).toList();
            Container routerContainer = containers.stream().filter(c -> c.module().equals("router-service")).findFirst()
                    .orElseThrow();
            RouterProperties routing = (RouterProperties) router.bindRecords(router.binder(routerContainer.environment()))
                    .get(RouterProperties.class);
            List<String> shards = routing.mesh().expertShards();

            List<ExpertServiceProperties> experts = containers.stream().filter(c -> c.module().equals("expert-service"))
                    .map(c -> (ExpertServiceProperties) expert.bindRecords(expert.binder(c.environment()))
                            .get(ExpertServiceProperties.class))
                    .toList();
            assertEquals(2, experts.size(), source + ": expert shard services");
            assertEquals(experts.size(), shards.size(), source + ": the router lists " + shards);
            for (int shard = 0; shard < shards.size(); shard++) {
                assertEquals("dns:///expert-" + shard + ":9084", shards.get(shard), source + " shard " + shard);
                int index = shard;
                assertEquals(1, experts.stream().filter(e -> e.shard() == index).count(), source + ": shard " + shard);
            }
            experts.forEach(e -> assertEquals(shards.size(), e.shardCount(), source));
            experts.forEach(e -> assertEquals(routing.mesh().densePlacement(), e.densePlacement(), source));
            assertEquals(List.of(source.equals("k8s") ? ServiceManifests.attentionTarget(0) : "attention:9083"),
                    routing.mesh().attention(), source);
            assertEquals("tokenizer:9082", routing.mesh().tokenizer(), source);
        }
    }

    /**
     * How a list of comma-separated targets binds: an indexed variable keeps its commas in one
     * entry, while the same text in the unindexed variable becomes one entry per comma.
     */
    @Test
    void indexedVariablesKeepCommasWithinAShard() {
        ServiceSettings router = ServiceSettings.of("router-service");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_0", "expert-0a:9084,expert-0b:9084");
        env.put("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_1", "dns:///expert-1:9084");
        RouterProperties indexed = (RouterProperties) router.bindRecords(router.binder(env)).get(RouterProperties.class);
        assertEquals(List.of("expert-0a:9084,expert-0b:9084", "dns:///expert-1:9084"), indexed.mesh().expertShards());

        RouterProperties flat = (RouterProperties) router.bindRecords(router.binder(
                Map.of("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS", "expert-0a:9084,expert-0b:9084"))).get(RouterProperties.class);
        assertEquals(List.of("expert-0a:9084", "expert-0b:9084"), flat.mesh().expertShards(),
                "an unindexed variable splits at commas: two shards of one replica each");
    }
}
