package io.sparsemesh.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the Kubernetes tree of a mesh plan: a Kustomize base with every component and one file
 * per expert shard, components for monitoring, KEDA and Strimzi, and the dev, prod, keda and
 * strimzi overlays that combine them.
 */
public final class MeshRenderer {

    private final MeshPlan plan;
    private final ModelFootprint footprint;
    private final String dashboardJson;

    /**
     * @param dashboardJson the Grafana dashboard, shipped as a ConfigMap by the monitoring component
     */
    public MeshRenderer(MeshPlan plan, ModelFootprint footprint, String dashboardJson) {
        if (footprint.shards().size() != plan.shards()) {
            throw new IllegalArgumentException("the footprint was measured for " + footprint.shards().size()
                    + " shards but the plan has " + plan.shards());
        }
        for (ModelFootprint.Shard shard : footprint.shards()) {
            if (shard.experts().isEmpty() && shard.denseLayers().isEmpty()) {
                int experts = footprint.config().moe() == null ? 0 : footprint.config().moe().numRoutedExperts();
                int placed = footprint.shards().stream().mapToInt(s -> s.experts().size() + s.denseLayers().size()).sum();
                throw new IllegalArgumentException("expert shard " + shard.index() + " of " + plan.shards() + " would hold"
                        + " no routed expert and no dense FFN: " + plan.model().getFileName() + " has " + experts
                        + " routed experts and " + (placed - experts) + " dense FFNs placed on shards; render with fewer shards");
            }
        }
        this.plan = plan;
        this.footprint = footprint;
        this.dashboardJson = dashboardJson;
    }

    /** Renders the files of the tree, with paths relative to its root (the {@code k8s/} folder). */
    public List<ManifestFile> render() {
        List<ManifestFile> files = new ArrayList<>();
        files.addAll(base());
        files.addAll(monitoring());
        files.addAll(keda());
        files.addAll(strimzi());
        files.addAll(overlays());
        return files;
    }

    private List<ManifestFile> base() {
        ServiceManifests services = new ServiceManifests(plan, footprint);
        ExpertShardManifests experts = new ExpertShardManifests(plan, footprint);
        List<ManifestFile> files = new ArrayList<>();
        files.add(new ManifestFile("base/namespace.yaml", "The mesh's namespace.", List.of(services.namespace())));
        files.add(new ManifestFile("base/model.yaml", "The model (" + plan.model().getFileName() + ", "
                + footprint.totalBytes() + " bytes of tensors) and how it is split over " + plan.shards() + " expert shards.",
                List.of(services.modelConfig(), services.modelVolume())));
        files.add(new ManifestFile("base/redis.yaml", "Redis for the gateway's rate limits.",
                List.of(InfrastructureManifests.redis(), InfrastructureManifests.redisService())));
        List<Object> kafka = new ArrayList<>();
        kafka.add(InfrastructureManifests.kafkaConfig());
        kafka.add(InfrastructureManifests.kafka());
        kafka.addAll(InfrastructureManifests.kafkaServices());
        files.add(new ManifestFile("base/kafka.yaml", "A single-node Kafka in KRaft mode for the mesh's logs.", kafka));
        files.add(new ManifestFile("base/tokenizer.yaml", "The tokenizer service.",
                List.of(services.tokenizer(), services.tokenizerService())));
        files.add(new ManifestFile("base/attention.yaml", "The attention service: every layer's attention and the"
                + " sequences' caches (" + footprint.attentionBytes() + " bytes of weights, "
                + footprint.cacheBytesPerToken() + " bytes of cache per token).",
                List.of(services.attention(), services.attentionService())));
        files.add(new ManifestFile("base/router.yaml", "The router: scheduler, gate, dispatch to the shards, LM head"
                + " (" + footprint.routerBytes() + " bytes of weights).",
                List.of(services.meshConfig(), services.router(), services.routerService())));
        files.add(new ManifestFile("base/gateway.yaml", "The gateway: the mesh's one public entry.",
                List.of(services.gateway(), services.gatewayService())));
        for (int shard = 0; shard < plan.shards(); shard++) {
            files.add(experts.file(shard));
        }
        files.add(new ManifestFile("base/network-policies.yaml", "Ingress rules: only the gateway is reachable from"
                + " outside the namespace, and only the router reaches the internal gRPC ports.", NetworkPolicies.all()));

        List<String> resources = new ArrayList<>();
        for (ManifestFile file : files) {
            resources.add(file.path().substring("base/".length()));
        }
        Map<String, Object> kustomization = kustomization("Kustomization");
        kustomization.put("namespace", plan.namespace());
        kustomization.put("resources", resources);
        files.add(new ManifestFile("base/kustomization.yaml", "The mesh without operators: apply an overlay.",
                List.of(kustomization)));
        return files;
    }

    private List<ManifestFile> monitoring() {
        String dir = "components/monitoring/";
        Map<String, Object> component = kustomization("Component");
        component.put("resources", List.of("service-monitor.yaml", "prometheus-adapter-rules.yaml", "grafana-dashboard.yaml",
                "network-policy.yaml"));
        return List.of(
                new ManifestFile(dir + "service-monitor.yaml", "Prometheus Operator scrapes every management port.",
                        List.of(MonitoringManifests.serviceMonitor())),
                new ManifestFile(dir + "prometheus-adapter-rules.yaml", "Prometheus Adapter rules behind the shards'"
                        + " autoscalers; give config.yaml to the adapter (docs/deploy.md).",
                        List.of(MonitoringManifests.adapterRulesConfigMap())),
                new ManifestFile(dir + "grafana-dashboard.yaml", "The Grafana dashboard (deploy/grafana/dashboards/"
                        + "sparsemesh.json) for Grafana's dashboard sidecar.",
                        List.of(MonitoringManifests.dashboardConfigMap(dashboardJson))),
                new ManifestFile(dir + "network-policy.yaml", "Prometheus may scrape the management ports.",
                        List.of(NetworkPolicies.scrapeFromMonitoring(MonitoringManifests.MONITORING_NAMESPACE))),
                new ManifestFile(dir + "kustomization.yaml", "Monitoring: needs the Prometheus Operator's CRDs.",
                        List.of(component)));
    }

    private List<ManifestFile> keda() {
        String dir = "components/keda/";
        List<Object> scaledObjects = new ArrayList<>();
        for (int shard = 0; shard < plan.shards(); shard++) {
            scaledObjects.add(OptionalComponents.scaledObject(plan, shard));
        }
        Map<String, Object> component = kustomization("Component");
        component.put("resources", List.of("scaled-objects.yaml"));
        component.put("patches", List.of(deletion("autoscaling/v2", "HorizontalPodAutoscaler",
                Workloads.NAME_LABEL + "=" + Workloads.EXPERT.name())));
        return List.of(
                new ManifestFile(dir + "scaled-objects.yaml", "KEDA ScaledObjects, one per expert shard.", scaledObjects),
                new ManifestFile(dir + "kustomization.yaml", "KEDA scales the shards instead of the HorizontalPodAutoscalers.",
                        List.of(component)));
    }

    private List<ManifestFile> strimzi() {
        String dir = "components/strimzi/";
        Map<String, Object> component = kustomization("Component");
        component.put("resources", List.of("kafka.yaml"));
        List<Object> patches = new ArrayList<>();
        patches.add(deletion("apps/v1", "StatefulSet", null, InfrastructureManifests.KAFKA));
        patches.add(deletion("v1", "Service", null, InfrastructureManifests.KAFKA));
        patches.add(deletion("v1", "Service", null, InfrastructureManifests.KAFKA + "-headless"));
        patches.add(deletion("networking.k8s.io/v1", "NetworkPolicy", null, "kafka-from-clients"));
        Map<String, Object> bootstrap = new LinkedHashMap<>();
        bootstrap.put("target", Map.of("kind", "ConfigMap", "name", InfrastructureManifests.KAFKA_CONFIG_MAP));
        bootstrap.put("patch", "- op: replace\n  path: /data/bootstrap-servers\n  value: "
                + OptionalComponents.strimziBootstrap() + "\n");
        patches.add(bootstrap);
        component.put("patches", patches);
        return List.of(
                new ManifestFile(dir + "kafka.yaml", "A Strimzi Kafka cluster (KRaft, three dual-role nodes).",
                        List.of(OptionalComponents.strimziKafka(), OptionalComponents.strimziNodePool())),
                new ManifestFile(dir + "kustomization.yaml", "Strimzi runs Kafka instead of the single-node StatefulSet.",
                        List.of(component)));
    }

    private List<ManifestFile> overlays() {
        Map<String, Object> dev = kustomization("Kustomization");
        dev.put("resources", List.of("../../base"));
        dev.put("patches", List.of(
                jsonPatch("Deployment", Workloads.PART_OF_LABEL + "=" + Workloads.PART_OF, "/spec/replicas", 1),
                jsonPatch("HorizontalPodAutoscaler", Workloads.PART_OF_LABEL + "=" + Workloads.PART_OF, "/spec/minReplicas", 1)));
        Map<String, Object> prod = kustomization("Kustomization");
        prod.put("resources", List.of("../../base"));
        prod.put("components", List.of("../../components/monitoring"));
        Map<String, Object> keda = kustomization("Kustomization");
        keda.put("resources", List.of("../../base"));
        keda.put("components", List.of("../../components/monitoring", "../../components/keda"));
        Map<String, Object> strimzi = kustomization("Kustomization");
        strimzi.put("resources", List.of("../../base"));
        strimzi.put("components", List.of("../../components/monitoring", "../../components/strimzi"));
        return List.of(
                new ManifestFile("overlays/dev/kustomization.yaml", "One replica of everything, no operators needed.",
                        List.of(dev)),
                new ManifestFile("overlays/prod/kustomization.yaml", "The rendered replica counts, with monitoring.",
                        List.of(prod)),
                new ManifestFile("overlays/keda/kustomization.yaml", "prod, with KEDA scaling the expert shards.",
                        List.of(keda)),
                new ManifestFile("overlays/strimzi/kustomization.yaml", "prod, with Kafka run by Strimzi.",
                        List.of(strimzi)));
    }

    private static Map<String, Object> kustomization(String kind) {
        Map<String, Object> kustomization = new LinkedHashMap<>();
        kustomization.put("apiVersion", kind.equals("Component") ? "kustomize.config.k8s.io/v1alpha1"
                : "kustomize.config.k8s.io/v1beta1");
        kustomization.put("kind", kind);
        return kustomization;
    }

    /** Builds a patch that deletes the objects of a kind that match a label selector. */
    private static Map<String, Object> deletion(String apiVersion, String kind, String labelSelector) {
        return deletion(apiVersion, kind, labelSelector, null);
    }

    private static Map<String, Object> deletion(String apiVersion, String kind, String labelSelector, String name) {
        Map<String, Object> target = new LinkedHashMap<>();
        target.put("kind", kind);
        if (name != null) {
            target.put("name", name);
        }
        if (labelSelector != null) {
            target.put("labelSelector", labelSelector);
        }
        Map<String, Object> patch = new LinkedHashMap<>();
        patch.put("target", target);
        patch.put("patch", "$patch: delete\napiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: "
                + (name != null ? name : "any") + "\n");
        return patch;
    }

    private static Map<String, Object> jsonPatch(String kind, String labelSelector, String path, Object value) {
        Map<String, Object> patch = new LinkedHashMap<>();
        patch.put("target", Map.of("kind", kind, "labelSelector", labelSelector));
        patch.put("patch", "- op: replace\n  path: " + path + "\n  value: " + value + "\n");
        return patch;
    }
}
