package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.sparsemesh.deploy.Workloads.ATTENTION;
import static io.sparsemesh.deploy.Workloads.ROUTER;
import static io.sparsemesh.deploy.Workloads.TOKENIZER;

/**
 * The namespace, the model's ConfigMap and volume, and the services other than the expert shards:
 * tokenizer, attention, router and gateway.
 */
final class ServiceManifests {

    static final String GATEWAY_MODULE = "gateway";
    static final int GATEWAY_HTTP_PORT = 8080;
    static final int GATEWAY_MANAGEMENT_PORT = 9080;
    /** Optional Secret holding the gateway's API keys as {@code SPARSEMESH_GATEWAY_APIKEYS_<i>_*} variables. */
    static final String API_KEYS_SECRET = "sparsemesh-api-keys";
    static final String MESH_CONFIG_MAP = "sparsemesh-mesh";

    /** Seconds a router may take to finish the generations it runs when it is stopped. */
    static final int ROUTER_SHUTDOWN_SECONDS = 90;

    private final MeshPlan plan;
    private final ModelFootprint footprint;

    ServiceManifests(MeshPlan plan, ModelFootprint footprint) {
        this.plan = plan;
        this.footprint = footprint;
    }

    Namespace namespace() {
        return new NamespaceBuilder().withNewMetadata().withName(plan.namespace())
                .addToLabels(Workloads.PART_OF_LABEL, Workloads.PART_OF).endMetadata().build();
    }

    /**
     * Builds the ConfigMap of the model every component loads, and of how it is split. The router's
     * shard targets, the shards' count and each shard's index must agree with it, so a new model or
     * shard count is a new render.
     */
    ConfigMap modelConfig() {
        Map<String, String> data = new LinkedHashMap<>();
        data.put("path", plan.containerModelPath());
        data.put("shard-count", Integer.toString(plan.shards()));
        data.put("dense-placement", plan.densePlacement().name());
        return new ConfigMapBuilder().withMetadata(Workloads.metadata(Workloads.MODEL_CONFIG_MAP, partOf()))
                .withData(data).build();
    }

    /**
     * Builds the claim of the volume the model is read from, mounted read-only by every component.
     * Fill it once (see docs/deploy.md). A storage class with ReadOnlyMany access lets pods on many
     * nodes share it.
     */
    PersistentVolumeClaim modelVolume() {
        long gib = Math.max(1, (footprint.totalBytes() + (1L << 30) - 1) >> 30);
        return new PersistentVolumeClaimBuilder().withMetadata(Workloads.metadata(Workloads.MODEL_CLAIM, partOf()))
                .withNewSpec().withAccessModes("ReadOnlyMany")
                .withNewResources().addToRequests("storage", new Quantity(gib + "Gi")).endResources()
                .endSpec().build();
    }

    /** Builds the router's view of the mesh: where attention, the tokenizer and each expert shard are. */
    ConfigMap meshConfig() {
        Map<String, String> data = new LinkedHashMap<>();
        for (int replica = 0; replica < plan.attentionReplicas(); replica++) {
            data.put("SPARSEMESH_ROUTER_MESH_ATTENTION_" + replica, attentionTarget(replica));
        }
        for (int shard = 0; shard < plan.shards(); shard++) {
            data.put("SPARSEMESH_ROUTER_MESH_EXPERTSHARDS_" + shard, ExpertShardManifests.target(shard));
        }
        data.put("SPARSEMESH_ROUTER_MESH_TOKENIZER", TOKENIZER.name() + ":" + TOKENIZER.grpcPort());
        data.put("SPARSEMESH_ROUTER_MESH_WIREDTYPE", "BF16");
        data.put("SPARSEMESH_ROUTER_MESH_CALLTIMEOUT", "30s");
        return new ConfigMapBuilder().withMetadata(Workloads.metadata(MESH_CONFIG_MAP, partOf())).withData(data).build();
    }

    Deployment tokenizer() {
        List<EnvVar> env = new ArrayList<>(Workloads.bindAllInterfaces(true));
        env.add(Workloads.env("HOME", "/tmp"));
        env.add(Workloads.modelEnv("SPARSEMESH_TOKENIZER_MODELPATH", "path"));
        ContainerBuilder container = Workloads.serviceContainer(TOKENIZER, plan, Sizing.tokenizer()).withEnv(env);
        Workloads.withPreStopDelay(container, 5);
        return Workloads.deployment(TOKENIZER.name(), TOKENIZER.labels(TOKENIZER.name()), 2,
                Workloads.podSpec(container.build(), 30));
    }

    io.fabric8.kubernetes.api.model.Service tokenizerService() {
        return Workloads.service(TOKENIZER.name(), TOKENIZER.labels(TOKENIZER.name()), false, grpcAndManagement(
                TOKENIZER));
    }

    /**
     * Returns the router's target of one attention replica: its stable name in the StatefulSet's headless
     * Service. The router pins each sequence to one replica, so it lists every replica by name.
     */
    static String attentionTarget(int replica) {
        return ATTENTION.name() + "-" + replica + "." + ATTENTION.name() + ":" + ATTENTION.grpcPort();
    }

    /**
     * Attention replicas hold the caches of the sequences pinned to them, so they do not autoscale:
     * removing one ends its sequences. They form a StatefulSet, so that each has a stable DNS name
     * the router can list; a new replica count is a new render.
     */
    StatefulSet attention() {
        List<EnvVar> env = new ArrayList<>(Workloads.bindAllInterfaces(true));
        env.add(Workloads.env("HOME", "/tmp"));
        env.add(Workloads.modelEnv("SPARSEMESH_ATTENTION_MODEL", "path"));
        env.add(Workloads.env("SPARSEMESH_ATTENTION_MAXCACHEDTOKENS", Long.toString(plan.maxCachedTokens())));
        ContainerBuilder container = Workloads.serviceContainer(ATTENTION, plan,
                Sizing.attention(footprint.attentionBytes(), footprint.cacheBytesPerToken(), plan.maxCachedTokens())).withEnv(env);
        Workloads.withPreStopDelay(container, 15);
        Map<String, String> labels = ATTENTION.labels(ATTENTION.name());
        return new StatefulSetBuilder()
                .withMetadata(Workloads.metadata(ATTENTION.name(), labels))
                .withNewSpec()
                .withServiceName(ATTENTION.name())
                .withReplicas(plan.attentionReplicas())
                .withPodManagementPolicy("Parallel")
                .withNewSelector().addToMatchLabels(Workloads.INSTANCE_LABEL, ATTENTION.name())
                .addToMatchLabels(Workloads.NAME_LABEL, ATTENTION.name()).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata()
                .withSpec(Workloads.podSpec(container.build(), 60)).endTemplate()
                .endSpec()
                .build();
    }

    io.fabric8.kubernetes.api.model.Service attentionService() {
        return Workloads.service(ATTENTION.name(), ATTENTION.labels(ATTENTION.name()), true, grpcAndManagement(ATTENTION));
    }

    /**
     * Builds the router. It serves the OpenAI API on its HTTP port (which also carries Actuator) and the
     * Generation API over gRPC. Stopping it lets running generations finish first.
     */
    Deployment router() {
        List<EnvVar> env = new ArrayList<>(Workloads.bindAllInterfaces(true));
        env.add(Workloads.env("HOME", "/tmp"));
        env.add(Workloads.modelEnv("SPARSEMESH_ROUTER_MODEL", "path"));
        env.add(Workloads.modelEnv("SPARSEMESH_ROUTER_MESH_DENSEPLACEMENT", "dense-placement"));
        env.add(Workloads.env("SPRING_GRPC_SERVER_HEALTH_ENABLED", "true"));
        env.add(kafkaBootstrap());
        env.add(Workloads.env("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE", ROUTER_SHUTDOWN_SECONDS + "s"));
        ContainerBuilder container = Workloads.serviceContainer(ROUTER, plan,
                Sizing.router(footprint.config(), footprint.routerBytes())).withEnv(env)
                .addNewEnvFrom().withNewConfigMapRef().withName(MESH_CONFIG_MAP).endConfigMapRef().endEnvFrom();
        Workloads.withPreStopDelay(container, 10);
        PodSpec pod = Workloads.podSpec(container.build(), ROUTER_SHUTDOWN_SECONDS + 20);
        pod.setInitContainers(List.of(awaitServices()));
        return Workloads.deployment(ROUTER.name(), ROUTER.labels(ROUTER.name()), 2, pod);
    }

    /**
     * Builds the router's init container, which waits until every attention replica and the
     * tokenizer accept connections. The router asks each attention replica for its layers when it
     * starts and fails without them, so this orders the start-up as Compose's depends_on does.
     * A StatefulSet pod's name resolves only once the pod is ready.
     */
    private Container awaitServices() {
        List<String> targets = new ArrayList<>();
        for (int replica = 0; replica < plan.attentionReplicas(); replica++) {
            targets.add(attentionTarget(replica));
        }
        targets.add(TOKENIZER.name() + ":" + TOKENIZER.grpcPort());
        String script = "for target in " + String.join(" ", targets) + "; do"
                + " until (exec 3<>/dev/tcp/${target%:*}/${target##*:}) 2>/dev/null; do"
                + " echo \"waiting for $target\"; sleep 2; done; done";
        return new ContainerBuilder()
                .withName("await-services")
                .withImage(plan.image(ROUTER.module()))
                .withCommand("bash", "-c", script)
                .withResources(Sizing.fixed("10m", "32Mi"))
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(1000L).withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true).endSecurityContext()
                .build();
    }

    io.fabric8.kubernetes.api.model.Service routerService() {
        return Workloads.service(ROUTER.name(), ROUTER.labels(ROUTER.name()), false, List.of(
                Workloads.servicePort(Workloads.MANAGEMENT_PORT_NAME, ROUTER.managementPort(), "http"),
                Workloads.servicePort(Workloads.GRPC_PORT_NAME, ROUTER.grpcPort(), "kubernetes.io/h2c")));
    }

    /** Builds the gateway, the one public entry: API keys from an optional Secret, rate limits in Redis, request log to Kafka. */
    Deployment gateway() {
        Workloads.Component gateway = gatewayComponent();
        List<EnvVar> env = new ArrayList<>(Workloads.bindAllInterfaces(false));
        env.add(Workloads.env("HOME", "/tmp"));
        env.add(Workloads.env("MANAGEMENT_SERVER_ADDRESS", "0.0.0.0"));
        env.add(Workloads.env("SPARSEMESH_GATEWAY_ROUTERURI", "http://" + ROUTER.name() + ":" + ROUTER.managementPort()));
        env.add(Workloads.env("SPRING_DATA_REDIS_HOST", InfrastructureManifests.REDIS));
        env.add(kafkaBootstrap());
        ContainerBuilder container = Workloads.serviceContainer(gateway, plan, Sizing.gateway())
                .addToPorts(Workloads.containerPort(Workloads.HTTP_PORT_NAME, GATEWAY_HTTP_PORT))
                .withEnv(env)
                .addNewEnvFrom().withNewSecretRef().withName(API_KEYS_SECRET).withOptional(true).endSecretRef().endEnvFrom();
        Workloads.withPreStopDelay(container, 10);
        return Workloads.deployment(gateway.name(), gateway.labels(gateway.name()), 2,
                Workloads.podSpec(container.build(), ROUTER_SHUTDOWN_SECONDS + 20));
    }

    io.fabric8.kubernetes.api.model.Service gatewayService() {
        Workloads.Component gateway = gatewayComponent();
        return Workloads.service(gateway.name(), gateway.labels(gateway.name()), false, List.of(
                Workloads.servicePort(Workloads.HTTP_PORT_NAME, GATEWAY_HTTP_PORT, "http"),
                Workloads.servicePort(Workloads.MANAGEMENT_PORT_NAME, GATEWAY_MANAGEMENT_PORT, "http")));
    }

    /** Returns the variable that sets where the gateway and the router send their Kafka logs. */
    private static EnvVar kafkaBootstrap() {
        return new EnvVarBuilder().withName("SPARSEMESH_LOG_KAFKA_BOOTSTRAPSERVERS").withNewValueFrom()
                .withNewConfigMapKeyRef().withName(InfrastructureManifests.KAFKA_CONFIG_MAP).withKey("bootstrap-servers")
                .endConfigMapKeyRef().endValueFrom().build();
    }

    static Workloads.Component gatewayComponent() {
        return new Workloads.Component("gateway", GATEWAY_MODULE, "gateway", 0, GATEWAY_MANAGEMENT_PORT);
    }

    private static List<io.fabric8.kubernetes.api.model.ServicePort> grpcAndManagement(Workloads.Component component) {
        return List.of(Workloads.servicePort(Workloads.GRPC_PORT_NAME, component.grpcPort(), "kubernetes.io/h2c"),
                Workloads.servicePort(Workloads.MANAGEMENT_PORT_NAME, component.managementPort(), "http"));
    }

    private static Map<String, String> partOf() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Workloads.PART_OF_LABEL, Workloads.PART_OF);
        return labels;
    }
}
