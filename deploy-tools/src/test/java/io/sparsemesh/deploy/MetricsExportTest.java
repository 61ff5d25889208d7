package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.attention.AttentionServiceApplication;
import io.sparsemesh.expert.ExpertServiceApplication;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.router.RouterServiceApplication;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.Channels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metrics the autoscalers, the adapter rules, the KEDA triggers and the dashboard name are
 * metrics the services export. Starts an expert shard, the router and the attention service with
 * the environment of their Kubernetes Deployments and the bundled model, checks that their probes
 * (Actuator readiness and gRPC health) report UP, and scrapes {@code /actuator/prometheus}. A second
 * expert shard serves a MoE checkpoint, whose per-expert series a dense model does not have.
 */
class MetricsExportTest {

    static final Pattern METRIC = Pattern.compile("sparsemesh_[a-z_]+");

    static KubeObjects objects;
    static final List<RunningService> services = new ArrayList<>();
    static RunningService expert;
    static RunningService router;
    static RunningService attention;
    static RunningService moeExpert;
    static final Map<String, String> scrapes = new LinkedHashMap<>();

    @BeforeAll
    static void startServices() throws Exception {
        objects = KubeObjects.load(Repository.path("k8s"));
        MeshPlan plan = Repository.defaultPlan();

        expert = start("expert-0", ExpertServiceApplication.class, "expert-service", plan, Map.of());
        attention = start("attention", AttentionServiceApplication.class, "attention-service", plan, Map.of());
        // Here the router computes attention and experts itself, because its Deployment's targets are
        // names in the cluster (DeploymentSettingsTest binds them). Its metrics are the same either way.
        router = start("router", RouterServiceApplication.class, "router-service", plan, Map.of());
        moeExpert = RunningService.start("moe-expert-0", ExpertServiceApplication.class, "expert-service", Map.of(
                "SPARSEMESH_EXPERT_MODEL", Repository.path("testdata/hf-tiny/glm_moe_dsa_tiny_b").toString(),
                "SPARSEMESH_EXPERT_SHARD", "0", "SPARSEMESH_EXPERT_SHARDCOUNT", "2"), Map.of());
        services.add(moeExpert);

        provokeRejectedRequest(expert);
        for (RunningService service : services) {
            scrapes.put(service.toString(), service.scrape());
        }
    }

    private static RunningService start(String deployment, Class<?> application, String module, MeshPlan plan,
                                        Map<String, String> overrides) {
        Map<String, String> env = new LinkedHashMap<>();
        objects.environment(objects.container("base/", deployment), "base/").forEach((name, value) -> {
            // the Kafka log's broker is a name in the cluster too, which the Kafka client must resolve at start-up
            boolean clusterName = name.startsWith("SPARSEMESH_ROUTER_MESH_") || name.startsWith("SPARSEMESH_LOG_KAFKA_");
            if (!clusterName || name.equals("SPARSEMESH_ROUTER_MESH_DENSEPLACEMENT")) {
                env.put(name, value.equals(plan.containerModelPath()) ? plan.model().toString() : value);
            }
        });
        if (module.equals("router-service")) {
            env.put("SPARSEMESH_ROUTER_MESH_DENSEPLACEMENT", "ROUTER");
        }
        RunningService service = RunningService.start(deployment, application, module, env, overrides);
        services.add(service);
        return service;
    }

    /** Sends a request for a layer the model does not have, which the shard rejects and counts by status. */
    private static void provokeRejectedRequest(RunningService shard) throws Exception {
        ManagedChannel channel = Channels.open(shard.target(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
        try {
            CompletableFuture<Status> end = new CompletableFuture<>();
            StreamObserver<ExpertRequest> requests = ExpertsGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .forward(new StreamObserver<>() {
                        @Override
                        public void onNext(ExpertResponse response) {
                            end.completeExceptionally(new AssertionError("a response to a request for layer 99"));
                        }

                        @Override
                        public void onError(Throwable error) {
                            end.complete(Status.fromThrowable(error));
                        }

                        @Override
                        public void onCompleted() {
                            end.complete(Status.OK);
                        }
                    });
            requests.onNext(ExpertRequest.newBuilder().setCallId(1).setLayer(99).setDense(true)
                    .setHidden(TensorCodec.encode(new float[64], 1, 64, WireDType.WIRE_DTYPE_F32)).build());
            assertEquals(Status.Code.INVALID_ARGUMENT, end.get(30, TimeUnit.SECONDS).getCode());
            requests.onCompleted();
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopServices() {
        services.forEach(RunningService::close);
    }

    @Test
    void probesAnswer() throws Exception {
        for (RunningService service : services) {
            assertTrue(service.get("/actuator/health/readiness").contains("UP"), service + " readiness");
            assertTrue(service.get("/actuator/health/liveness").contains("UP"), service + " liveness");
            assertEquals(HealthCheckResponse.ServingStatus.SERVING, service.grpcHealth(), service + " gRPC health");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void autoscalersReadMetricsTheServicesExport() {
        ConfigMap rules = objects.named(ConfigMap.class, "components/monitoring/", MonitoringManifests.ADAPTER_RULES);
        Map<String, Object> adapter = new Yaml(new SafeConstructor(new LoaderOptions())).load(rules.getData().get("config.yaml"));

        Map<String, String> podMetrics = adapterMetrics((List<Map<String, Object>>) adapter.get("rules"));
        Map<String, String> externalMetrics = adapterMetrics((List<Map<String, Object>>) adapter.get("externalRules"));
        for (String series : podMetrics.values()) {
            assertSeries(expert, series, "shard", "0");
        }
        for (String series : externalMetrics.values()) {
            assertSeries(router, series, "shard", "0");
        }

        for (HorizontalPodAutoscaler autoscaler : objects.of(HorizontalPodAutoscaler.class, "base/")) {
            for (MetricSpec metric : autoscaler.getSpec().getMetrics()) {
                if (metric.getPods() != null) {
                    assertTrue(podMetrics.containsKey(metric.getPods().getMetric().getName()),
                            autoscaler.getMetadata().getName() + " reads " + metric.getPods().getMetric().getName()
                                    + ", which no adapter rule provides; rules provide " + podMetrics.keySet());
                } else {
                    assertTrue(externalMetrics.containsKey(metric.getExternal().getMetric().getName()),
                            autoscaler.getMetadata().getName() + " reads " + metric.getExternal().getMetric().getName()
                                    + ", which no external adapter rule provides; rules provide " + externalMetrics.keySet());
                }
            }
        }

        List<GenericKubernetesResource> scaledObjects = objects.of(GenericKubernetesResource.class, "components/keda/")
                .stream().filter(r -> r.getKind().equals("ScaledObject")).toList();
        assertEquals(Repository.defaultPlan().shards(), scaledObjects.size());
        for (GenericKubernetesResource scaledObject : scaledObjects) {
            Map<String, Object> spec = (Map<String, Object>) scaledObject.getAdditionalProperties().get("spec");
            for (Map<String, Object> trigger : (List<Map<String, Object>>) spec.get("triggers")) {
                String query = (String) ((Map<String, Object>) trigger.get("metadata")).get("query");
                for (String name : metricNames(query)) {
                    assertExported(name, "KEDA query of " + scaledObject.getMetadata().getName());
                }
            }
        }
    }

    @Test
    void dashboardQueriesMetricsTheServicesExport() {
        Set<String> names = metricNames(Repository.dashboard());
        assertTrue(names.size() > 10, "dashboard metrics " + names);
        for (String name : names) {
            assertExported(name, "the dashboard");
        }
    }

    /** Maps each rule's exposed name ({@code name.as}) to the series it reads ({@code seriesQuery}). */
    @SuppressWarnings("unchecked")
    private static Map<String, String> adapterMetrics(List<Map<String, Object>> rules) {
        Map<String, String> metrics = new HashMap<>();
        for (Map<String, Object> rule : rules) {
            String series = metricNames((String) rule.get("seriesQuery")).iterator().next();
            metrics.put((String) ((Map<String, Object>) rule.get("name")).get("as"), series);
        }
        return metrics;
    }

    private static void assertSeries(RunningService service, String metric, String label, String value) {
        String scrape = scrapes.get(service.toString());
        Pattern series = Pattern.compile("(?m)^" + Pattern.quote(metric) + "\\{[^}]*" + label + "=\"" + value + "\"");
        assertTrue(series.matcher(scrape).find(), service + " exports no " + metric + "{" + label + "=\"" + value + "\"}");
    }

    private static void assertExported(String name, String user) {
        for (String scrape : scrapes.values()) {
            if (RunningService.metricNames(scrape).contains(name)) {
                return;
            }
        }
        throw new AssertionError(user + " uses " + name + ", which none of " + scrapes.keySet() + " exports");
    }

    static Set<String> metricNames(String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher matcher = METRIC.matcher(text);
        while (matcher.find()) {
            names.add(matcher.group());
        }
        return names;
    }
}
