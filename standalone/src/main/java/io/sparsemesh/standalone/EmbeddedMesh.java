package io.sparsemesh.standalone;

import io.sparsemesh.attention.AttentionServiceApplication;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.router.RouterServiceApplication;
import io.sparsemesh.tokenizer.TokenizerServiceApplication;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every service of the mesh in this JVM, each its own Spring application context, talking over
 * in-process gRPC channels (no sockets, no serialisation of the hidden states into TCP frames).
 * Only the router's HTTP and gRPC ports listen on loopback.
 */
final class EmbeddedMesh implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedMesh.class);

    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

    /** Starts the services of {@code topology}, then the router with {@code routerOverrides} on top. */
    void start(MeshTopology topology, Map<String, String> routerOverrides) {
        List<MeshTopology.Service> services = topology.services((name, target) -> {
            String serverName = "sparsemesh-" + name;
            target[0] = "in-process:" + serverName;
            Map<String, String> listen = new HashMap<>();
            listen.put("spring.grpc.server.inprocess.name", serverName);
            listen.put("spring.grpc.server.inprocess.exclusive", "true");
            return listen;
        });
        for (MeshTopology.Service service : services) {
            log.info("Starting {} in process", service.name());
            contexts.add(new SpringApplicationBuilder(applicationClass(service.module()))
                    .web(WebApplicationType.NONE)
                    .properties(asProperties(service.properties()))
                    .run());
        }

        Map<String, String> router = new HashMap<>(topology.routerProperties(services));
        router.putAll(routerOverrides);
        router.put("spring.application.name", "router");
        log.info("Starting the router");
        contexts.add(new SpringApplicationBuilder(RouterServiceApplication.class)
                .web(WebApplicationType.SERVLET)
                .properties(asProperties(router))
                .run());
    }

    private static Class<?> applicationClass(String module) {
        return switch (module) {
            case "tokenizer-service" -> TokenizerServiceApplication.class;
            case "attention-service" -> AttentionServiceApplication.class;
            case "expert-service" -> ExpertServiceApplication.class;
            default -> throw new IllegalArgumentException("unknown service module " + module);
        };
    }

    private static Map<String, Object> asProperties(Map<String, String> properties) {
        return new HashMap<>(properties);
    }

    /** Stops the router first, then the services, so no request reaches a stopped service. */
    @Override
    public void close() {
        for (int i = contexts.size() - 1; i >= 0; i--) {
            try {
                contexts.get(i).close();
            } catch (RuntimeException e) {
                log.warn("Failed to stop context {}", contexts.get(i).getId(), e);
            }
        }
        contexts.clear();
    }
}
