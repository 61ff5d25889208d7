package io.sparsemesh.standalone;

import io.sparsemesh.attention.AttentionServiceApplication;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.gateway.GatewayApplication;
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

    /**
     * Settings for every context but the gateway's: the gateway's jars share the class path, so its
     * auto-configuration and its Redis health indicator are switched off where they do not belong.
     */
    private static final Map<String, String> NOT_A_GATEWAY = Map.of(
            "spring.cloud.gateway.server.webflux.enabled", "false",
            "spring.autoconfigure.exclude", String.join(",",
                    "org.springframework.cloud.gateway.config.GatewayAutoConfiguration",
                    "org.springframework.cloud.gateway.config.GatewayRedisAutoConfiguration",
                    "org.springframework.cloud.gateway.config.GatewayClassPathWarningAutoConfiguration",
                    "org.springframework.cloud.gateway.config.GatewayMetricsAutoConfiguration",
                    "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
                    "org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration"),
            "management.health.redis.enabled", "false");

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
            Map<String, String> properties = new HashMap<>(service.properties());
            properties.putAll(NOT_A_GATEWAY);
            contexts.add(new SpringApplicationBuilder(applicationClass(service.module()))
                    .web(WebApplicationType.NONE)
                    .run(arguments(service.module(), properties)));
        }

        Map<String, String> router = new HashMap<>(topology.routerProperties(services));
        router.putAll(routerOverrides);
        router.put("spring.application.name", "router");
        router.putAll(NOT_A_GATEWAY);
        log.info("Starting the router");
        contexts.add(new SpringApplicationBuilder(RouterServiceApplication.class)
                .web(WebApplicationType.SERVLET)
                .run(arguments("router-service", router)));
    }

    /** Starts the gateway in front of the router, as a reactive application context. */
    void startGateway(Map<String, String> properties) {
        log.info("Starting the gateway");
        Map<String, String> gateway = new HashMap<>(properties);
        // The router's Tomcat shares the class path; the gateway runs on Reactor Netty as it does alone.
        gateway.put("spring.autoconfigure.exclude", String.join(",",
                "org.springframework.boot.tomcat.autoconfigure.actuate.web.server.TomcatReactiveManagementContextAutoConfiguration",
                "org.springframework.boot.tomcat.autoconfigure.reactive.TomcatReactiveWebServerAutoConfiguration"));
        contexts.add(new SpringApplicationBuilder(GatewayApplication.class)
                .web(WebApplicationType.REACTIVE)
                .run(arguments("gateway", gateway)));
    }

    private static Class<?> applicationClass(String module) {
        return switch (module) {
            case "tokenizer-service" -> TokenizerServiceApplication.class;
            case "attention-service" -> AttentionServiceApplication.class;
            case "expert-service" -> ExpertServiceApplication.class;
            default -> throw new IllegalArgumentException("unknown service module " + module);
        };
    }

    /**
     * Returns {@code properties} as command-line arguments, which override the module's defaults.
     * Every module's {@code application.yaml} is on this class path and only one of them would be
     * found, so each context reads its own defaults file, {@code sparsemesh-<module>.yaml}, instead.
     */
    private static String[] arguments(String module, Map<String, String> properties) {
        List<String> arguments = new ArrayList<>();
        arguments.add("--spring.config.name=sparsemesh-" + module);
        properties.forEach((key, value) -> arguments.add("--" + key + "=" + value));
        return arguments.toArray(String[]::new);
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
