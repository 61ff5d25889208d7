package io.sparsemesh.router.health;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The result of one check of the services behind the router. Each list is empty when that part
 * of the model runs in the router process.
 *
 * @param tokenizer    the tokenizer service, as one unit
 * @param attention    one unit per layer range, holding the attention replicas that serve it
 * @param expertShards one unit per expert shard, in shard order
 * @param checkedAt    when the check started
 */
public record BackendReport(List<Unit> tokenizer, List<Unit> attention, List<Unit> expertShards, Instant checkedAt) {

    public BackendReport {
        tokenizer = List.copyOf(tokenizer);
        attention = List.copyOf(attention);
        expertShards = List.copyOf(expertShards);
    }

    /** Returns every unit: the tokenizer, then the attention ranges, then the expert shards. */
    public List<Unit> units() {
        List<Unit> all = new ArrayList<>(tokenizer);
        all.addAll(attention);
        all.addAll(expertShards);
        return all;
    }

    /**
     * Interchangeable replicas that the router needs at least one of: an expert shard, the
     * attention replicas of one layer range, or the tokenizer service.
     *
     * @param name     the unit's name in logs and health details, e.g. {@code expert-shard-1}
     * @param replicas the outcome for each replica; empty when a DNS name resolved to no address
     */
    public record Unit(String name, List<Replica> replicas) {

        public Unit {
            replicas = List.copyOf(replicas);
        }

        /** Returns whether at least one replica returned the expected Describe response. */
        public boolean available() {
            return replicas.stream().anyMatch(Replica::reachable);
        }

        /** Returns the replicas that failed, with their errors, as {@code target (error)} joined by commas. */
        String failures() {
            if (replicas.isEmpty()) {
                return "no replica is listed";
            }
            return String.join(", ", replicas.stream().filter(replica -> !replica.reachable())
                    .map(replica -> replica.target() + " (" + replica.error() + ")").toList());
        }
    }

    /**
     * The outcome of one Describe call to one replica.
     *
     * @param target the replica's target, e.g. {@code 10.0.0.7:9084}
     * @param error  why the replica counts as unreachable (the gRPC status, or a mismatch in its
     *               response); null when it returned the expected response
     */
    public record Replica(String target, String error) {

        public boolean reachable() {
            return error == null;
        }
    }
}
