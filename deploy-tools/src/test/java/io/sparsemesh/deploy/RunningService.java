package io.sparsemesh.deploy;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.sparsemesh.transport.discovery.Channels;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service's Spring Boot application started in the test JVM the way its container starts it:
 * the container's environment variables as an environment source, the module's own
 * application.yaml, and on top only what a test on loopback must change (the model's path on this
 * machine, loopback bind addresses, random ports).
 */
final class RunningService implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String name;
    private final ConfigurableApplicationContext context;

    private RunningService(String name, ConfigurableApplicationContext context) {
        this.name = name;
        this.context = context;
    }

    /**
     * @param module      the service module, whose {@code src/main/resources/application.yaml} is used (it
     *                    imports the module's defaults from the class path)
     * @param environment the container's environment variables
     * @param overrides   properties that win over the environment, as command-line arguments do
     */
    static RunningService start(String name, Class<?> application, String module, Map<String, String> environment,
                                Map<String, String> overrides) {
        StandardEnvironment springEnvironment = new StandardEnvironment();
        // the "-systemEnvironment" suffix makes Spring map SPARSEMESH_EXPERT_SHARDCOUNT-style names to properties
        springEnvironment.getPropertySources().addFirst(new SystemEnvironmentPropertySource(
                "container-" + StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new LinkedHashMap<>(environment)));
        Map<String, String> arguments = new LinkedHashMap<>();
        arguments.put("spring.config.location", "file:" + Repository.path(module + "/src/main/resources/application.yaml"));
        arguments.put("server.port", "0");
        arguments.put("server.address", "127.0.0.1");
        arguments.put("spring.grpc.server.port", "0");
        arguments.put("spring.grpc.server.host", "127.0.0.1");
        arguments.putAll(overrides);
        String[] args = arguments.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(application).environment(springEnvironment)
                .run(args);
        return new RunningService(name, context);
    }

    ConfigurableApplicationContext context() {
        return context;
    }

    int httpPort() {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    int grpcPort() {
        return context.getBean(GrpcServerLifecycle.class).getPort();
    }

    String target() {
        return "127.0.0.1:" + grpcPort();
    }

    /** The text of {@code /actuator/prometheus}. */
    String scrape() throws IOException, InterruptedException {
        return get("/actuator/prometheus");
    }

    String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError(name + " answered " + response.statusCode() + " on " + path + ": " + response.body());
        }
        return response.body();
    }

    /** The status of the standard gRPC health check (service ""), which the startup probe asks. */
    HealthCheckResponse.ServingStatus grpcHealth() throws InterruptedException {
        ManagedChannel channel = Channels.open(target(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus();
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** Metric names in a Prometheus text scrape. */
    static List<String> metricNames(String scrape) {
        return scrape.lines().filter(line -> !line.startsWith("#") && !line.isBlank())
                .map(line -> line.split("[{ ]", 2)[0]).distinct().toList();
    }

    @Override
    public void close() {
        context.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
