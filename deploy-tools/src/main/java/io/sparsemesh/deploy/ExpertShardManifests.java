package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sparsemesh.deploy.Workloads.EXPERT;

/**
 * The objects of one expert shard. A Deployment runs its interchangeable replicas. A headless
 * Service's DNS name lists the ready replicas, and the router balances over them. A
 * PodDisruptionBudget lets voluntary evictions take one replica at a time. An autoscaler follows
 * the tokens per second routed to the shard.
 */
final class ExpertShardManifests {

    /** The expert service's counter of routed tokens, and the per-second rate the adapter derives from it. */
    static final String EXPERT_TOKENS_METRIC = "sparsemesh_expert_routed_tokens_total";
    static final String EXPERT_TOKENS_RATE = "sparsemesh_expert_routed_tokens_per_second";
    /** The router's counter of tokens it routed to each shard, and its per-second rate. */
    static final String ROUTER_SHARD_TOKENS_METRIC = "sparsemesh_router_shard_tokens_total";
    static final String ROUTER_SHARD_TOKENS_RATE = "sparsemesh_router_shard_tokens_per_second";

    /** Seconds between the pod leaving DNS and SIGTERM: longer than the router's re-resolution of shard names. */
    static final int PRE_STOP_SECONDS = 15;
    /** The expert service's {@code spring.lifecycle.timeout-per-shutdown-phase}: drain plus in-flight requests. */
    static final int SHUTDOWN_PHASE_SECONDS = 45;
    static final long TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + SHUTDOWN_PHASE_SECONDS + 15;

    private final MeshPlan plan;
    private final ModelFootprint footprint;

    ExpertShardManifests(MeshPlan plan, ModelFootprint footprint) {
        this.plan = plan;
        this.footprint = footprint;
    }

    static String name(int shard) {
        return "expert-" + shard;
    }

    /** Returns the router's target of a shard: every ready replica behind the shard's headless Service. */
    static String target(int shard) {
        return "dns:///" + name(shard) + ":" + EXPERT.grpcPort();
    }

    static Map<String, String> labels(int shard) {
        Map<String, String> labels = EXPERT.labels(name(shard));
        labels.put(Workloads.SHARD_LABEL, Integer.toString(shard));
        return labels;
    }

    ManifestFile file(int shard) {
        ModelFootprint.Shard part = footprint.shards().get(shard);
        String comment = "Expert shard " + shard + " of " + plan.shards() + ": routed experts " + describe(part.experts())
                + ", dense FFNs of layers " + describe(part.denseLayers()) + "; maps " + part.bytes() + " bytes.";
        return new ManifestFile("base/experts/" + name(shard) + ".yaml", comment,
                List.of(deployment(shard, part), service(shard), disruptionBudget(shard), autoscaler(shard)));
    }

    private static String describe(java.util.Set<Integer> ids) {
        return ids.isEmpty() ? "none" : ids.toString();
    }

    Deployment deployment(int shard, ModelFootprint.Shard part) {
        List<io.fabric8.kubernetes.api.model.EnvVar> env = new ArrayList<>(Workloads.bindAllInterfaces(true));
        env.add(Workloads.env("HOME", "/tmp"));
        env.add(Workloads.modelEnv("SPARSEMESH_EXPERT_MODEL", "path"));
        env.add(Workloads.modelEnv("SPARSEMESH_EXPERT_SHARDCOUNT", "shard-count"));
        env.add(Workloads.modelEnv("SPARSEMESH_EXPERT_DENSEPLACEMENT", "dense-placement"));
        env.add(Workloads.env("SPARSEMESH_EXPERT_SHARD", Integer.toString(shard)));
        env.add(Workloads.env("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE", SHUTDOWN_PHASE_SECONDS + "s"));
        ContainerBuilder container = Workloads.serviceContainer(EXPERT, plan,
                Sizing.expert(footprint.config(), part.bytes())).withEnv(env);
        Workloads.withPreStopDelay(container, PRE_STOP_SECONDS);
        return Workloads.deployment(name(shard), labels(shard), plan.replicas(),
                Workloads.podSpec(container.build(), TERMINATION_GRACE_SECONDS));
    }

    io.fabric8.kubernetes.api.model.Service service(int shard) {
        return Workloads.service(name(shard), labels(shard), true, List.of(
                Workloads.servicePort(Workloads.GRPC_PORT_NAME, EXPERT.grpcPort(), "kubernetes.io/h2c"),
                Workloads.servicePort(Workloads.MANAGEMENT_PORT_NAME, EXPERT.managementPort(), "http")));
    }

    PodDisruptionBudget disruptionBudget(int shard) {
        return new PodDisruptionBudgetBuilder()
                .withMetadata(Workloads.metadata(name(shard), labels(shard)))
                .withNewSpec()
                .withMaxUnavailable(new IntOrString(1))
                .withNewSelector().addToMatchLabels(Workloads.INSTANCE_LABEL, name(shard))
                .addToMatchLabels(Workloads.NAME_LABEL, EXPERT.name()).endSelector()
                .endSpec()
                .build();
    }

    /**
     * Builds the shard's autoscaler, which follows two views of its load and takes the larger
     * proposal. One is the tokens per second its replicas compute (a Pods metric, averaged over the
     * shard's pods). The other is the tokens per second the routers send to it (an External metric
     * selected by shard). Scale-up reacts within a minute. Scale-down waits for five minutes of
     * lower load and removes one replica per minute.
     */
    HorizontalPodAutoscaler autoscaler(int shard) {
        Quantity target = new Quantity(Long.toString(plan.targetTokensPerSecond()));
        return new HorizontalPodAutoscalerBuilder()
                .withMetadata(Workloads.metadata(name(shard), labels(shard)))
                .withNewSpec()
                .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName(name(shard)).endScaleTargetRef()
                .withMinReplicas(plan.replicas())
                .withMaxReplicas(plan.maxReplicas())
                .addNewMetric().withType("Pods").withNewPods()
                .withNewMetric().withName(EXPERT_TOKENS_RATE).endMetric()
                .withNewTarget().withType("AverageValue").withAverageValue(target).endTarget()
                .endPods().endMetric()
                .addNewMetric().withType("External").withNewExternal()
                .withNewMetric().withName(ROUTER_SHARD_TOKENS_RATE)
                .withNewSelector().addToMatchLabels("shard", Integer.toString(shard)).endSelector().endMetric()
                .withNewTarget().withType("AverageValue").withAverageValue(target).endTarget()
                .endExternal().endMetric()
                .withNewBehavior()
                .withNewScaleUp().withStabilizationWindowSeconds(30).addNewPolicy().withType("Pods").withValue(2)
                .withPeriodSeconds(60).endPolicy().endScaleUp()
                .withNewScaleDown().withStabilizationWindowSeconds(300).addNewPolicy().withType("Pods").withValue(1)
                .withPeriodSeconds(60).endPolicy().endScaleDown()
                .endBehavior()
                .endSpec()
                .build();
    }
}
