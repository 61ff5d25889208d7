package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts every service workload of the mesh shares: labels, ports, probes, the read-only model
 * volume, the bind addresses containers need, and graceful termination.
 */
final class Workloads {

    static final String PART_OF = "sparsemesh";
    static final String NAME_LABEL = "app.kubernetes.io/name";
    static final String INSTANCE_LABEL = "app.kubernetes.io/instance";
    static final String PART_OF_LABEL = "app.kubernetes.io/part-of";
    static final String COMPONENT_LABEL = "app.kubernetes.io/component";
    static final String SHARD_LABEL = "sparsemesh.io/shard";

    static final String MODEL_CONFIG_MAP = "sparsemesh-model";
    static final String MODEL_VOLUME = "model";
    static final String MODEL_CLAIM = "sparsemesh-model";

    static final String GRPC_PORT_NAME = "grpc";
    static final String HTTP_PORT_NAME = "http";
    static final String MANAGEMENT_PORT_NAME = "management";

    private Workloads() {
    }

    /** A component of the mesh: its name, and its gRPC and HTTP (management) ports. */
    record Component(String name, String module, String role, int grpcPort, int managementPort) {

        /** Returns the labels of the component's pods. {@code instance} distinguishes the shards of one component. */
        Map<String, String> labels(String instance) {
            return Workloads.labels(name, instance, role);
        }
    }

    /** Returns the recommended {@code app.kubernetes.io} labels of a mesh workload. */
    static Map<String, String> labels(String name, String instance, String role) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NAME_LABEL, name);
        labels.put(INSTANCE_LABEL, instance);
        labels.put(COMPONENT_LABEL, role);
        labels.put(PART_OF_LABEL, PART_OF);
        return labels;
    }

    static final Component TOKENIZER = new Component("tokenizer", "tokenizer-service", "tokenizer", 9082, 8082);
    static final Component ATTENTION = new Component("attention", "attention-service", "attention", 9083, 8083);
    static final Component EXPERT = new Component("expert", "expert-service", "expert-shard", 9084, 8084);
    static final Component ROUTER = new Component("router", "router-service", "router", 9081, 8081);

    static ObjectMeta metadata(String name, Map<String, String> labels) {
        return new ObjectMetaBuilder().withName(name).withLabels(labels).build();
    }

    static EnvVar env(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    /** Returns an environment variable read from a key of the model ConfigMap. */
    static EnvVar modelEnv(String name, String key) {
        return new EnvVarBuilder().withName(name)
                .withNewValueFrom().withNewConfigMapKeyRef().withName(MODEL_CONFIG_MAP).withKey(key).endConfigMapKeyRef()
                .endValueFrom().build();
    }

    /** The services bind loopback by default; in a pod they must listen on every interface. */
    static List<EnvVar> bindAllInterfaces(boolean grpc) {
        List<EnvVar> env = new ArrayList<>();
        if (grpc) {
            env.add(env("SPRING_GRPC_SERVER_HOST", "0.0.0.0"));
        }
        env.add(env("SERVER_ADDRESS", "0.0.0.0"));
        return env;
    }

    static ContainerPort containerPort(String name, int port) {
        return new ContainerPortBuilder().withName(name).withContainerPort(port).withProtocol("TCP").build();
    }

    static ServicePort servicePort(String name, int port, String appProtocol) {
        return new ServicePortBuilder().withName(name).withPort(port).withTargetPort(new IntOrString(name))
                .withProtocol("TCP").withAppProtocol(appProtocol).build();
    }

    /** Actuator's liveness group: the JVM is alive and the context did not break. */
    static Probe liveness(int port) {
        return new ProbeBuilder().withNewHttpGet().withPath("/actuator/health/liveness")
                .withPort(new IntOrString(port)).endHttpGet()
                .withPeriodSeconds(10).withTimeoutSeconds(3).withFailureThreshold(3).build();
    }

    /** Actuator's readiness group: the service accepts traffic (it refuses it while draining). */
    static Probe readiness(int port) {
        return new ProbeBuilder().withNewHttpGet().withPath("/actuator/health/readiness")
                .withPort(new IntOrString(port)).endHttpGet()
                .withPeriodSeconds(5).withTimeoutSeconds(3).withFailureThreshold(2).build();
    }

    /**
     * Returns the standard gRPC health check on the service port, which reports SERVING once the
     * service's gRPC server runs (Actuator's health indicators do not feed it). It is the startup probe. Mapping a large checkpoint may take minutes, so it
     * allows 10 minutes before the liveness probe takes over.
     */
    static Probe grpcStartup(int port) {
        return new ProbeBuilder().withNewGrpc().withPort(port).withService("").endGrpc()
                .withPeriodSeconds(5).withTimeoutSeconds(3).withFailureThreshold(120).build();
    }

    /** Builds a service container: its image, ports, probes, resources and the model mounted read-only. */
    static ContainerBuilder serviceContainer(Component component, MeshPlan plan, ResourceRequirements resources) {
        List<ContainerPort> ports = new ArrayList<>();
        if (component.grpcPort() > 0) {
            ports.add(containerPort(GRPC_PORT_NAME, component.grpcPort()));
        }
        ports.add(containerPort(MANAGEMENT_PORT_NAME, component.managementPort()));
        ContainerBuilder container = new ContainerBuilder()
                .withName(component.name())
                .withImage(plan.image(component.module()))
                .withPorts(ports)
                .withResources(resources)
                .withLivenessProbe(liveness(component.managementPort()))
                .withReadinessProbe(readiness(component.managementPort()))
                .addNewVolumeMount().withName(MODEL_VOLUME).withMountPath(plan.modelMountPath()).withReadOnly(true).endVolumeMount()
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(1000L).withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true).endSecurityContext()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount();
        if (component.grpcPort() > 0) {
            container.withStartupProbe(grpcStartup(component.grpcPort()));
        }
        return container;
    }

    /**
     * Waits before the JVM receives SIGTERM, so that the pod has left its Service's endpoints and
     * the DNS answers clients re-resolve before the service begins to drain.
     */
    static ContainerBuilder withPreStopDelay(ContainerBuilder container, int seconds) {
        return container.withNewLifecycle().withNewPreStop().withNewExec()
                .withCommand("sleep", Integer.toString(seconds)).endExec().endPreStop().endLifecycle();
    }

    /** Builds a pod with the model volume, a writable /tmp and the given termination grace period. */
    static PodSpec podSpec(Container container, long terminationGraceSeconds) {
        return new PodSpecBuilder()
                .withContainers(container)
                .withTerminationGracePeriodSeconds(terminationGraceSeconds)
                .withEnableServiceLinks(false)
                .addNewVolume().withName(MODEL_VOLUME).withNewPersistentVolumeClaim().withClaimName(MODEL_CLAIM)
                .withReadOnly(true).endPersistentVolumeClaim().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .build();
    }

    static Deployment deployment(String name, Map<String, String> labels, int replicas, PodSpec pod) {
        return new DeploymentBuilder()
                .withMetadata(metadata(name, labels))
                .withNewSpec()
                .withReplicas(replicas)
                .withNewSelector().addToMatchLabels(INSTANCE_LABEL, labels.get(INSTANCE_LABEL))
                .addToMatchLabels(NAME_LABEL, labels.get(NAME_LABEL)).endSelector()
                .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate()
                .withMaxUnavailable(new IntOrString(0)).withMaxSurge(new IntOrString(1)).endRollingUpdate().endStrategy()
                .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata().withSpec(pod).endTemplate()
                .endSpec()
                .build();
    }

    /** Builds a Service. A {@code headless} one publishes every ready pod's address in DNS instead of one virtual IP. */
    static Service service(String name, Map<String, String> labels, boolean headless, List<ServicePort> ports) {
        ServiceBuilder service = new ServiceBuilder()
                .withMetadata(metadata(name, labels))
                .withNewSpec()
                .withSelector(Map.of(INSTANCE_LABEL, labels.get(INSTANCE_LABEL), NAME_LABEL, labels.get(NAME_LABEL)))
                .withPorts(ports)
                .endSpec();
        if (headless) {
            service.editSpec().withClusterIP("None").endSpec();
        }
        return service.build();
    }
}
