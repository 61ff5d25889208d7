package io.sparsemesh.standalone;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The services of one mesh and the Spring properties each one starts with. Each service is
 * addressed by a target: {@code in-process:<name>} in the embedded mode, {@code 127.0.0.1:<port>}
 * when every service is its own process.
 *
 * @param model             checkpoint every service loads
 * @param hasTokenizer      whether the checkpoint carries a tokenizer; without one no tokenizer service starts
 * @param attentionReplicas attention replicas, each serving every layer
 * @param shards            expert shards
 * @param replicas          replicas of each expert shard
 * @param wireDtype         BF16 or F32 between router and services
 * @param densePlacement    ROUTER or SHARDS: where dense layers' FFNs run
 */
public record MeshTopology(Path model, boolean hasTokenizer, int attentionReplicas, int shards, int replicas,
                    String wireDtype, String densePlacement, int contextLength) {

    /** One service to start: its module, a name for logs, its properties and its gRPC target. */
    public record Service(String module, String name, Map<String, String> properties, String target) {
    }

    /** Allocates the address of a service: an in-process name or a loopback port. */
    public interface Addresses {

        /** Returns the properties that make the service listen, and stores its target in {@code target[0]}. */
        Map<String, String> listen(String name, String[] target);
    }

    public List<Service> services(Addresses addresses) {
        List<Service> services = new ArrayList<>();
        String modelPath = model.toAbsolutePath().toString();

        if (hasTokenizer) {
            Map<String, String> tokenizer = new LinkedHashMap<>();
            tokenizer.put("sparsemesh.tokenizer.model-path", modelPath);
            services.add(service("tokenizer-service", "tokenizer", tokenizer, addresses));
        }

        for (int a = 0; a < attentionReplicas; a++) {
            Map<String, String> attention = new LinkedHashMap<>();
            attention.put("sparsemesh.attention.model", modelPath);
            attention.put("sparsemesh.attention.context-length", Integer.toString(contextLength));
            services.add(service("attention-service", "attention-" + a, attention, addresses));
        }

        for (int s = 0; s < shards; s++) {
            for (int r = 0; r < replicas; r++) {
                Map<String, String> expert = new LinkedHashMap<>();
                expert.put("sparsemesh.expert.model", modelPath);
                expert.put("sparsemesh.expert.shard", Integer.toString(s));
                expert.put("sparsemesh.expert.shard-count", Integer.toString(shards));
                expert.put("sparsemesh.expert.dense-placement", densePlacement.toLowerCase(java.util.Locale.ROOT));
                services.add(service("expert-service", "expert-" + s + "-" + r, expert, addresses));
            }
        }
        return services;
    }

    /** Properties of the router that connect it to {@code services}. */
    public Map<String, String> routerProperties(List<Service> services) {
        Map<String, String> router = new LinkedHashMap<>();
        router.put("sparsemesh.router.model", model.toAbsolutePath().toString());
        router.put("sparsemesh.router.scheduler.context-length", Integer.toString(contextLength));
        router.put("sparsemesh.router.mesh.wire-dtype", wireDtype);
        router.put("sparsemesh.router.mesh.dense-placement", densePlacement);
        List<String> attention = new ArrayList<>();
        String[] shardTargets = new String[shards];
        for (Service service : services) {
            if (service.module().equals("tokenizer-service")) {
                router.put("sparsemesh.router.mesh.tokenizer", service.target());
            } else if (service.module().equals("attention-service")) {
                attention.add(service.target());
            } else {
                int shard = Integer.parseInt(service.properties().get("sparsemesh.expert.shard"));
                shardTargets[shard] = shardTargets[shard] == null ? service.target() : shardTargets[shard] + "," + service.target();
            }
        }
        for (int a = 0; a < attention.size(); a++) {
            router.put("sparsemesh.router.mesh.attention[" + a + "]", attention.get(a));
        }
        for (int s = 0; s < shards; s++) {
            router.put("sparsemesh.router.mesh.expert-shards[" + s + "]", shardTargets[s]);
        }
        return router;
    }

    private static Service service(String module, String name, Map<String, String> properties, Addresses addresses) {
        String[] target = new String[1];
        Map<String, String> all = new LinkedHashMap<>(properties);
        all.putAll(addresses.listen(name, target));
        all.put("spring.application.name", name);
        return new Service(module, name, all, target[0]);
    }
}
