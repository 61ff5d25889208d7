package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Objects of kinds that need an operator, which fabric8 does not model: KEDA's ScaledObject (the
 * alternative to the HorizontalPodAutoscalers) and Strimzi's Kafka and KafkaNodePool.
 */
final class OptionalComponents {

    static final String PROMETHEUS_ADDRESS = "http://prometheus-operated." + MonitoringManifests.MONITORING_NAMESPACE + ".svc:9090";

    private OptionalComponents() {
    }

    /**
     * KEDA scales a shard with the same two signals as its HorizontalPodAutoscaler, queried from
     * Prometheus directly, so no metrics adapter is needed. KEDA creates and owns the HPA itself.
     */
    static GenericKubernetesResource scaledObject(MeshPlan plan, int shard) {
        String selector = "namespace=\"" + plan.namespace() + "\",shard=\"" + shard + "\"";
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("scaleTargetRef", Map.of("apiVersion", "apps/v1", "kind", "Deployment", "name", ExpertShardManifests.name(shard)));
        spec.put("minReplicaCount", plan.replicas());
        spec.put("maxReplicaCount", plan.maxReplicas());
        spec.put("pollingInterval", 15);
        spec.put("cooldownPeriod", 300);
        spec.put("advanced", Map.of("horizontalPodAutoscalerConfig", Map.of("behavior", Map.of(
                "scaleDown", Map.of("stabilizationWindowSeconds", 300,
                        "policies", List.of(Map.of("type", "Pods", "value", 1, "periodSeconds", 60)))))));
        spec.put("triggers", List.of(
                trigger("sum(rate(" + ExpertShardManifests.EXPERT_TOKENS_METRIC + "{" + selector + "}[1m]))", plan),
                trigger("sum(rate(" + ExpertShardManifests.ROUTER_SHARD_TOKENS_METRIC + "{" + selector + "}[1m]))", plan)));
        return new GenericKubernetesResourceBuilder()
                .withApiVersion("keda.sh/v1alpha1").withKind("ScaledObject")
                .withMetadata(Workloads.metadata(ExpertShardManifests.name(shard), ExpertShardManifests.labels(shard)))
                .withAdditionalProperties(Map.of("spec", spec))
                .build();
    }

    private static Map<String, Object> trigger(String query, MeshPlan plan) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("serverAddress", PROMETHEUS_ADDRESS);
        metadata.put("query", query);
        metadata.put("threshold", Long.toString(plan.targetTokensPerSecond()));
        Map<String, Object> trigger = new LinkedHashMap<>();
        trigger.put("type", "prometheus");
        trigger.put("metricType", "AverageValue");
        trigger.put("metadata", metadata);
        return trigger;
    }

    /** Builds a Strimzi-managed Kafka in KRaft mode, named like the StatefulSet it replaces. */
    static GenericKubernetesResource strimziKafka() {
        Map<String, Object> listener = new LinkedHashMap<>();
        listener.put("name", "plain");
        listener.put("port", 9092);
        listener.put("type", "internal");
        listener.put("tls", false);
        listener.put("networkPolicyPeers", List.of(
                Map.of("podSelector", Map.of("matchLabels", Map.of(Workloads.NAME_LABEL, ServiceManifests.GATEWAY_MODULE))),
                Map.of("podSelector", Map.of("matchLabels", Map.of(Workloads.NAME_LABEL, Workloads.ROUTER.name())))));
        Map<String, Object> kafka = new LinkedHashMap<>();
        kafka.put("listeners", List.of(listener));
        kafka.put("config", Map.of("offsets.topic.replication.factor", 3, "transaction.state.log.replication.factor", 3,
                "transaction.state.log.min.isr", 2, "min.insync.replicas", 2));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kafka", kafka);
        spec.put("entityOperator", Map.of("topicOperator", Map.of()));
        return new GenericKubernetesResourceBuilder()
                .withApiVersion("kafka.strimzi.io/v1beta2").withKind("Kafka")
                .withMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(InfrastructureManifests.KAFKA)
                        .withLabels(Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF))
                        .withAnnotations(Map.of("strimzi.io/kraft", "enabled", "strimzi.io/node-pools", "enabled")).build())
                .withAdditionalProperties(Map.of("spec", spec))
                .build();
    }

    /** Three nodes that are brokers and controllers at once. */
    static GenericKubernetesResource strimziNodePool() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", 3);
        spec.put("roles", List.of("controller", "broker"));
        spec.put("storage", Map.of("type", "persistent-claim", "size", "20Gi", "deleteClaim", false));
        return new GenericKubernetesResourceBuilder()
                .withApiVersion("kafka.strimzi.io/v1beta2").withKind("KafkaNodePool")
                .withMetadata(Workloads.metadata("dual-role", Map.of("strimzi.io/cluster", InfrastructureManifests.KAFKA,
                        Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .withAdditionalProperties(Map.of("spec", spec))
                .build();
    }

    /** Strimzi's bootstrap Service of the cluster named {@code kafka}. */
    static String strimziBootstrap() {
        return InfrastructureManifests.KAFKA + "-kafka-bootstrap:9092";
    }
}
