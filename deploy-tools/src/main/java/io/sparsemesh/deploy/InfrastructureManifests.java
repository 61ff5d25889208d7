package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;

import java.util.List;
import java.util.Map;

/**
 * Redis (the gateway's rate limits) and a single-node Kafka in KRaft mode (the request,
 * generation and expert-load logs). Both are small and replaceable: clusters that run their own
 * Redis or Kafka point the services at them through the ConfigMaps below, and the Strimzi
 * component replaces this Kafka with a Strimzi-managed cluster.
 */
final class InfrastructureManifests {

    static final String REDIS = "redis";
    static final String REDIS_IMAGE = "redis:7.4-alpine";
    static final String KAFKA = "kafka";
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
    static final String KAFKA_CONFIG_MAP = "sparsemesh-kafka";
    /** KRaft cluster id of the single-node broker: 16 bytes in URL-safe base64, fixed so that restarts keep the log. */
    static final String KAFKA_CLUSTER_ID = "c3BhcnNlbWVzaC1rYWZrYQ";

    private InfrastructureManifests() {
    }

    static Map<String, String> labels(String name) {
        return Workloads.labels(name, name, name);
    }

    static Deployment redis() {
        ContainerBuilder container = new ContainerBuilder().withName(REDIS).withImage(REDIS_IMAGE)
                .withArgs("--save", "", "--appendonly", "no", "--maxmemory", "200mb", "--maxmemory-policy", "allkeys-lru")
                .withPorts(Workloads.containerPort("redis", 6379))
                .withResources(Sizing.fixed("100m", "256Mi"))
                .withReadinessProbe(new ProbeBuilder().withNewExec().withCommand("redis-cli", "ping").endExec()
                        .withPeriodSeconds(5).build())
                .withLivenessProbe(new ProbeBuilder().withNewTcpSocket().withPort(new IntOrString(6379)).endTcpSocket()
                        .withPeriodSeconds(10).build())
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(999L).withAllowPrivilegeEscalation(false)
                .endSecurityContext();
        return Workloads.deployment(REDIS, labels(REDIS), 1, new io.fabric8.kubernetes.api.model.PodSpecBuilder()
                .withContainers(container.build()).withEnableServiceLinks(false).build());
    }

    static Service redisService() {
        return Workloads.service(REDIS, labels(REDIS), false, List.of(Workloads.servicePort("redis", 6379, "redis")));
    }

    /** Builds the ConfigMap that tells the services where Kafka is. The Strimzi component rewrites it. */
    static ConfigMap kafkaConfig() {
        return new ConfigMapBuilder().withMetadata(Workloads.metadata(KAFKA_CONFIG_MAP, labels(KAFKA)))
                .addToData("bootstrap-servers", KAFKA + ":9092").build();
    }

    /**
     * Builds one broker that is also its own KRaft controller, with its log on a persistent volume. The
     * official image's environment variables map to server properties ({@code KAFKA_NODE_ID} to
     * {@code node.id}, ...). More brokers need per-pod node ids and voters: use Strimzi for that.
     */
    static StatefulSet kafka() {
        String advertised = "PLAINTEXT://" + KAFKA + "-0." + KAFKA + "-headless:9092";
        ContainerBuilder container = new ContainerBuilder().withName(KAFKA).withImage(KAFKA_IMAGE)
                .withPorts(Workloads.containerPort("kafka", 9092), Workloads.containerPort("controller", 9093))
                .withEnv(
                        Workloads.env("CLUSTER_ID", KAFKA_CLUSTER_ID),
                        Workloads.env("KAFKA_NODE_ID", "1"),
                        Workloads.env("KAFKA_PROCESS_ROLES", "broker,controller"),
                        Workloads.env("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093"),
                        Workloads.env("KAFKA_ADVERTISED_LISTENERS", advertised),
                        Workloads.env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
                        Workloads.env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"),
                        Workloads.env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093"),
                        Workloads.env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
                        Workloads.env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1"),
                        Workloads.env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1"),
                        Workloads.env("KAFKA_LOG_DIRS", "/var/lib/kafka/data"),
                        Workloads.env("KAFKA_HEAP_OPTS", "-Xms256m -Xmx512m"))
                .withResources(Sizing.fixed("500m", "1Gi"))
                .withReadinessProbe(new ProbeBuilder().withNewTcpSocket().withPort(new IntOrString(9092)).endTcpSocket()
                        .withInitialDelaySeconds(5).withPeriodSeconds(5).build())
                .withLivenessProbe(new ProbeBuilder().withNewTcpSocket().withPort(new IntOrString(9093)).endTcpSocket()
                        .withInitialDelaySeconds(30).withPeriodSeconds(10).build())
                .addNewVolumeMount().withName("data").withMountPath("/var/lib/kafka/data").endVolumeMount()
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(1000L).withAllowPrivilegeEscalation(false)
                .endSecurityContext();
        return new StatefulSetBuilder()
                .withMetadata(Workloads.metadata(KAFKA, labels(KAFKA)))
                .withNewSpec()
                .withServiceName(KAFKA + "-headless")
                .withReplicas(1)
                .withNewSelector().addToMatchLabels(Workloads.INSTANCE_LABEL, KAFKA).addToMatchLabels(Workloads.NAME_LABEL, KAFKA)
                .endSelector()
                .withNewTemplate().withNewMetadata().withLabels(labels(KAFKA)).endMetadata()
                .withNewSpec().withContainers(container.build()).withEnableServiceLinks(false)
                .withNewSecurityContext().withFsGroup(1000L).endSecurityContext()
                .withTerminationGracePeriodSeconds(60L).endSpec()
                .endTemplate()
                .addNewVolumeClaimTemplate().withNewMetadata().withName("data").endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce")
                .withNewResources().addToRequests("storage", new Quantity("10Gi")).endResources().endSpec()
                .endVolumeClaimTemplate()
                .endSpec()
                .build();
    }

    /** Builds the headless Service that gives the broker its stable DNS name, and the client Service. */
    static List<Service> kafkaServices() {
        Service headless = new ServiceBuilder(Workloads.service(KAFKA + "-headless", labels(KAFKA), true, List.of(
                Workloads.servicePort("kafka", 9092, "tcp"), Workloads.servicePort("controller", 9093, "tcp"))))
                .editSpec().withPublishNotReadyAddresses(true).endSpec().build();
        Service client = Workloads.service(KAFKA, labels(KAFKA), false, List.of(Workloads.servicePort("kafka", 9092, "tcp")));
        return List.of(headless, client);
    }
}
