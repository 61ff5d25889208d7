package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sparsemesh.deploy.Workloads.ATTENTION;
import static io.sparsemesh.deploy.Workloads.EXPERT;
import static io.sparsemesh.deploy.Workloads.NAME_LABEL;
import static io.sparsemesh.deploy.Workloads.ROUTER;
import static io.sparsemesh.deploy.Workloads.TOKENIZER;

/**
 * The ingress rules of the mesh. Every pod of the namespace rejects ingress unless a policy allows
 * it. The gateway's HTTP port is the only one open to clients outside the namespace. The router's
 * ports accept the gateway, the internal gRPC ports accept only the router, Redis accepts the
 * gateway, and Kafka accepts the gateway and the router. The monitoring component opens the
 * management ports to the monitoring namespace. Kubelet probes are not subject to these policies.
 */
final class NetworkPolicies {

    private NetworkPolicies() {
    }

    static List<NetworkPolicy> all() {
        List<NetworkPolicy> policies = new ArrayList<>();
        policies.add(new NetworkPolicyBuilder()
                .withMetadata(Workloads.metadata("default-deny-ingress", Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .withNewSpec().withNewPodSelector().endPodSelector().withPolicyTypes("Ingress").endSpec()
                .build());
        policies.add(allow("gateway-from-anywhere", ServiceManifests.GATEWAY_MODULE,
                rule(List.of(), ServiceManifests.GATEWAY_HTTP_PORT)));
        policies.add(allow("router-from-gateway", ROUTER.name(),
                rule(List.of(pods(ServiceManifests.GATEWAY_MODULE)), ROUTER.managementPort(), ROUTER.grpcPort())));
        for (Workloads.Component internal : List.of(TOKENIZER, ATTENTION, EXPERT)) {
            policies.add(allow(internal.name() + "-from-router", internal.name(),
                    rule(List.of(pods(ROUTER.name())), internal.grpcPort())));
        }
        policies.add(allow("redis-from-gateway", InfrastructureManifests.REDIS,
                rule(List.of(pods(ServiceManifests.GATEWAY_MODULE)), 6379)));
        policies.add(allow("kafka-from-clients", InfrastructureManifests.KAFKA,
                rule(List.of(pods(ServiceManifests.GATEWAY_MODULE), pods(ROUTER.name())), 9092),
                rule(List.of(pods(InfrastructureManifests.KAFKA)), 9092, 9093)));
        return policies;
    }

    /** Lets the monitoring namespace (Prometheus) scrape every management port of the mesh. */
    static NetworkPolicy scrapeFromMonitoring(String monitoringNamespace) {
        NetworkPolicyPeer prometheus = new NetworkPolicyPeerBuilder().withNewNamespaceSelector()
                .addToMatchLabels("kubernetes.io/metadata.name", monitoringNamespace).endNamespaceSelector().build();
        return new NetworkPolicyBuilder()
                .withMetadata(Workloads.metadata("management-from-monitoring", Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .withNewSpec().withNewPodSelector().addToMatchLabels(Workloads.PART_OF_LABEL, Workloads.PART_OF).endPodSelector()
                .withPolicyTypes("Ingress")
                .withIngress(rule(List.of(prometheus), TOKENIZER.managementPort(), ATTENTION.managementPort(),
                        EXPERT.managementPort(), ROUTER.managementPort(), ServiceManifests.GATEWAY_MANAGEMENT_PORT))
                .endSpec()
                .build();
    }

    private static NetworkPolicy allow(String name, String target, NetworkPolicyIngressRule... rules) {
        return new NetworkPolicyBuilder()
                .withMetadata(Workloads.metadata(name, Map.of(Workloads.PART_OF_LABEL, Workloads.PART_OF)))
                .withNewSpec().withNewPodSelector().addToMatchLabels(NAME_LABEL, target).endPodSelector()
                .withPolicyTypes("Ingress").withIngress(rules).endSpec()
                .build();
    }

    /** Pods of a component in the same namespace. */
    static NetworkPolicyPeer pods(String component) {
        return new NetworkPolicyPeerBuilder().withNewPodSelector().addToMatchLabels(NAME_LABEL, component).endPodSelector().build();
    }

    /** Allows TCP to {@code ports} from {@code peers}; no peers means from anywhere. */
    static NetworkPolicyIngressRule rule(List<NetworkPolicyPeer> peers, int... ports) {
        NetworkPolicyIngressRuleBuilder rule = new NetworkPolicyIngressRuleBuilder().withFrom(peers);
        for (int port : ports) {
            rule.addNewPort().withProtocol("TCP").withPort(new IntOrString(port)).endPort();
        }
        return rule.build();
    }
}
