package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every manifest parses into typed Kubernetes objects. Every expert shard has its own Deployment,
 * headless Service, PodDisruptionBudget and autoscaler, each aimed at that shard and agreeing with
 * the router's list of shards. Both hold for the committed tree and for a MoE model rendered over
 * four shards.
 */
class ShardManifestsTest {

    /** Kinds without a fabric8 model, parsed as generic resources. */
    static final Set<String> GENERIC_KINDS = Set.of("Kustomization", "Component", "ScaledObject", "Kafka", "KafkaNodePool");

    @Test
    void committedTreeParsesIntoTypedObjects() {
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        assertTrue(objects.all().size() > 30, "only " + objects.all().size() + " objects under k8s/");
        for (KubeObjects.Parsed parsed : objects.all()) {
            if (parsed.object() instanceof GenericKubernetesResource generic) {
                assertTrue(GENERIC_KINDS.contains(generic.getKind()), parsed.file() + ": kind " + generic.getKind()
                        + " " + generic.getApiVersion() + " did not parse into a typed object");
            } else {
                assertTrue(parsed.object() instanceof HasMetadata, parsed.file() + ": " + parsed.object().getClass());
            }
        }
        assertEquals(1, objects.of(ServiceMonitor.class, "components/monitoring/").size());
    }

    @Test
    void committedTreeHasEveryShard() {
        checkShards(KubeObjects.load(Repository.path("k8s")), Repository.defaultPlan());
    }

    @Test
    void moeModelOverFourShards(@org.junit.jupiter.api.io.TempDir Path output) {
        MeshPlan plan = new MeshPlan(Repository.path("testdata/hf-tiny/glm_moe_dsa_tiny_b"), "/models", 4, 3, 12,
                DensePlacement.SHARDS, 500, 2, 4096, "glm", "registry.example/sparsemesh/", "1.0");
        List<ManifestFile> files = RenderCommand.render(plan, Repository.dashboard());
        new ManifestWriter("test").write(output, files);
        KubeObjects objects = KubeObjects.load(output);
        checkShards(objects, plan);

        // 8 routed experts round-robin over 4 shards, so shard k has experts k and k + 4
        ModelFootprint footprint = ModelFootprint.measure(plan.model(), 4, DensePlacement.SHARDS);
        for (ModelFootprint.Shard shard : footprint.shards()) {
            assertEquals(Set.of(shard.index(), shard.index() + 4), shard.experts(), "shard " + shard.index());
            assertTrue(shard.bytes() > 0);
        }
        Deployment expert = objects.named(Deployment.class, "base/", "expert-2");
        assertEquals("registry.example/sparsemesh/expert-service:1.0", container(expert).getImage());
        assertEquals(12, objects.named(HorizontalPodAutoscaler.class, "base/", "expert-2").getSpec().getMaxReplicas());

        // two attention replicas, each listed by its stable StatefulSet name
        Map<String, String> routerEnv = objects.environment(container(objects.named(Deployment.class, "base/", "router")), "base/");
        assertEquals("attention-0.attention:9083", routerEnv.get("SPARSEMESH_ROUTER_MESH_ATTENTION_0"));
        assertEquals("attention-1.attention:9083", routerEnv.get("SPARSEMESH_ROUTER_MESH_ATTENTION_1"));
        StatefulSet attention = objects.named(StatefulSet.class, "base/", "attention");
        assertEquals(2, attention.getSpec().getReplicas());
        assertEquals("None", objects.named(Service.class, "base/", attention.getSpec().getServiceName()).getSpec().getClusterIP());
    }

    @Test
    void shardsWithoutWorkAreRejected() {
        MeshPlan plan = Repository.defaultPlan();
        MeshPlan tooMany = new MeshPlan(plan.model(), "/models", 6, 2, 8, DensePlacement.SHARDS, 2000, 1, 4096,
                "sparsemesh", "sparsemesh/", "test");
        IllegalArgumentException error = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RenderCommand.render(tooMany, Repository.dashboard()));
        assertTrue(error.getMessage().contains("expert shard 5 of 6 would hold no routed expert and no dense FFN"),
                error.getMessage());
        assertTrue(error.getMessage().contains("0 routed experts and 5 dense FFNs"), error.getMessage());
    }

    private static void checkShards(KubeObjects objects, MeshPlan plan) {
        ConfigMap model = objects.named(ConfigMap.class, "base/", Workloads.MODEL_CONFIG_MAP);
        assertEquals(Integer.toString(plan.shards()), model.getData().get("shard-count"));
        assertEquals(plan.containerModelPath(), model.getData().get("path"));

        Deployment router = objects.named(Deployment.class, "base/", "router");
        Map<String, String> routerEnv = objects.environment(container(router), "base/");
        Set<String> routerShards = new TreeSet<>();
        routerEnv.keySet().stream().filter(key -> key.startsWith("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_")).forEach(routerShards::add);
        assertEquals(plan.shards(), routerShards.size(), "router shard entries " + routerShards);
        String awaited = String.join(" ", router.getSpec().getTemplate().getSpec().getInitContainers().getFirst().getCommand());
        routerEnv.forEach((name, value) -> {
            if (name.startsWith("SPARSEMESH_ROUTER_MESH_ATTENTION_") || name.equals("SPARSEMESH_ROUTER_MESH_TOKENIZER")) {
                assertTrue(awaited.contains(" " + value + " ") || awaited.contains(" " + value + ";"),
                        "the router starts without waiting for " + value + ": " + awaited);
            }
        });

        List<Deployment> shardDeployments = objects.of(Deployment.class, "base/").stream()
                .filter(d -> d.getMetadata().getName().startsWith("expert-")).toList();
        assertEquals(plan.shards(), shardDeployments.size());
        assertEquals(plan.shards(), objects.of(HorizontalPodAutoscaler.class, "base/").size());
        assertEquals(plan.shards(), objects.of(PodDisruptionBudget.class, "base/").size());
        assertEquals(plan.shards(), objects.of(GenericKubernetesResource.class, "components/keda/").stream()
                .filter(r -> r.getKind().equals("ScaledObject")).count());

        for (int shard = 0; shard < plan.shards(); shard++) {
            String name = "expert-" + shard;
            Deployment deployment = objects.named(Deployment.class, "base/", name);
            Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
            assertTrue(podLabels.entrySet().containsAll(deployment.getSpec().getSelector().getMatchLabels().entrySet()),
                    name + ": selector does not match its pods");
            Map<String, String> env = objects.environment(container(deployment), "base/");
            assertEquals(Integer.toString(shard), env.get("SPARSEMESH_EXPERT_SHARD"), name);
            assertEquals(Integer.toString(plan.shards()), env.get("SPARSEMESH_EXPERT_SHARDCOUNT"), name);
            assertEquals(plan.replicas(), deployment.getSpec().getReplicas(), name);

            Service service = objects.named(Service.class, "base/", name);
            assertEquals("None", service.getSpec().getClusterIP(), name + " must be headless for DNS balancing");
            assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()), name);
            int grpcPort = service.getSpec().getPorts().stream().filter(p -> p.getName().equals("grpc")).findFirst()
                    .orElseThrow().getPort();
            assertEquals("dns:///" + name + ":" + grpcPort, routerEnv.get("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_" + shard));
            assertTrue(container(deployment).getPorts().stream().anyMatch(p -> p.getContainerPort() == grpcPort));

            PodDisruptionBudget budget = objects.named(PodDisruptionBudget.class, "base/", name);
            assertTrue(podLabels.entrySet().containsAll(budget.getSpec().getSelector().getMatchLabels().entrySet()), name);

            HorizontalPodAutoscaler autoscaler = objects.named(HorizontalPodAutoscaler.class, "base/", name);
            assertEquals("Deployment", autoscaler.getSpec().getScaleTargetRef().getKind());
            assertEquals(name, autoscaler.getSpec().getScaleTargetRef().getName(), "the autoscaler of " + name
                    + " scales another deployment");
            assertEquals(plan.replicas(), autoscaler.getSpec().getMinReplicas());
            for (MetricSpec metric : autoscaler.getSpec().getMetrics()) {
                if (metric.getExternal() != null) {
                    assertEquals(Map.of("shard", Integer.toString(shard)),
                            metric.getExternal().getMetric().getSelector().getMatchLabels(), name + " reads another shard's load");
                } else {
                    assertNotNull(metric.getPods(), name + ": metric " + metric.getType());
                }
            }

            // scale-down: the pod leaves DNS, then drains within the shutdown phase, all before it is killed
            long grace = deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
            long preStop = Long.parseLong(container(deployment).getLifecycle().getPreStop().getExec().getCommand().get(1));
            long phase = Long.parseLong(env.get("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE").replace("s", ""));
            assertTrue(grace > preStop + phase, name + ": termination grace " + grace + " s is not above preStop "
                    + preStop + " s plus the shutdown phase " + phase + " s");
        }
    }

    @Test
    void networkPoliciesOpenOnlyTheGateway() {
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        List<NetworkPolicy> policies = objects.of(NetworkPolicy.class, "base/");
        NetworkPolicy deny = policies.stream().filter(p -> p.getSpec().getPodSelector().getMatchLabels() == null
                || p.getSpec().getPodSelector().getMatchLabels().isEmpty()).findFirst().orElseThrow();
        assertTrue(deny.getSpec().getIngress() == null || deny.getSpec().getIngress().isEmpty(), "default policy must deny");

        Set<String> openToAll = new HashSet<>();
        for (NetworkPolicy policy : policies) {
            for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
                String target = policy.getSpec().getPodSelector().getMatchLabels().get(Workloads.NAME_LABEL);
                if (rule.getFrom() == null || rule.getFrom().isEmpty()
                        || rule.getFrom().stream().anyMatch(peer -> peer.getNamespaceSelector() != null
                        || peer.getIpBlock() != null)) {
                    openToAll.add(target);
                }
                for (Workloads.Component internal : List.of(Workloads.TOKENIZER, Workloads.ATTENTION, Workloads.EXPERT)) {
                    boolean coversGrpc = rule.getPorts().stream().anyMatch(p -> p.getPort().getIntVal() == internal.grpcPort());
                    if (internal.name().equals(target) && coversGrpc) {
                        assertEquals(Set.of(Workloads.ROUTER.name()), rule.getFrom().stream()
                                .map(peer -> peer.getPodSelector().getMatchLabels().get(Workloads.NAME_LABEL))
                                .collect(java.util.stream.Collectors.toSet()), policy.getMetadata().getName());
                    }
                }
            }
        }
        assertEquals(Set.of("gateway"), openToAll);
        assertFalse(objects.of(Service.class, "base/").stream().anyMatch(s -> "LoadBalancer".equals(s.getSpec().getType())
                || "NodePort".equals(s.getSpec().getType())), "no Service may be exposed outside the cluster in base/");
    }

    /**
     * Every Service port leads to a named port of the pods it selects, and every probe checks a port
     * the container declares.
     */
    @Test
    void servicesAndProbesUseDeclaredPorts() {
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        List<io.fabric8.kubernetes.api.model.PodTemplateSpec> pods = new java.util.ArrayList<>();
        objects.of(Deployment.class, "base/").forEach(d -> pods.add(d.getSpec().getTemplate()));
        objects.of(StatefulSet.class, "base/").forEach(s -> pods.add(s.getSpec().getTemplate()));
        for (Service service : objects.of(Service.class, "base/")) {
            Map<String, String> selector = service.getSpec().getSelector();
            List<io.fabric8.kubernetes.api.model.PodTemplateSpec> selected = pods.stream()
                    .filter(pod -> pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())).toList();
            assertEquals(1, selected.size(), "Service " + service.getMetadata().getName() + " selects " + selected.size()
                    + " workloads");
            Container container = selected.getFirst().getSpec().getContainers().getFirst();
            for (var port : service.getSpec().getPorts()) {
                String target = port.getTargetPort().getStrVal();
                assertTrue(container.getPorts().stream().anyMatch(p -> p.getName().equals(target)
                        && p.getContainerPort().equals(port.getPort())), "Service " + service.getMetadata().getName()
                        + " port " + port.getName() + " has no container port " + target + " = " + port.getPort());
            }
        }
        for (io.fabric8.kubernetes.api.model.PodTemplateSpec pod : pods) {
            Container container = pod.getSpec().getContainers().getFirst();
            for (var probe : java.util.Arrays.asList(container.getLivenessProbe(), container.getReadinessProbe(),
                    container.getStartupProbe())) {
                Integer port = probe == null ? null : probe.getHttpGet() != null ? probe.getHttpGet().getPort().getIntVal()
                        : probe.getGrpc() != null ? probe.getGrpc().getPort() : null;
                if (port != null) {
                    assertTrue(container.getPorts().stream().anyMatch(p -> p.getContainerPort().equals(port)),
                            container.getName() + " probes undeclared port " + port);
                }
            }
        }
    }

    /**
     * Every mesh service's liveness probe checks Actuator's liveness group, and its readiness probe
     * checks the readiness group. The root {@code /actuator/health} does not suit liveness, because
     * the router's root health contains its backends and a backend outage would restart every router.
     */
    @Test
    void meshProbesUseHealthGroups() {
        KubeObjects objects = KubeObjects.load(Repository.path("k8s"));
        Map<String, Container> workloads = new java.util.TreeMap<>();
        objects.of(Deployment.class, "base/").forEach(d -> workloads.put(d.getMetadata().getName(), container(d)));
        objects.of(StatefulSet.class, "base/").forEach(s -> workloads.put(s.getMetadata().getName(),
                s.getSpec().getTemplate().getSpec().getContainers().getFirst()));
        workloads.values().removeIf(container -> !container.getImage().startsWith("sparsemesh/"));
        assertEquals(Set.of("gateway", "router", "tokenizer", "attention", "expert-0", "expert-1"), workloads.keySet());

        workloads.forEach((workload, container) -> {
            assertEquals("/actuator/health/liveness", container.getLivenessProbe().getHttpGet().getPath(),
                    workload + " liveness probe");
            assertEquals("/actuator/health/readiness", container.getReadinessProbe().getHttpGet().getPath(),
                    workload + " readiness probe");
        });
    }

    static Container container(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
    }
}
