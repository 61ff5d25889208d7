package io.sparsemesh.core.moe;

/** Sees every MoE gate decision, e.g. to count tokens routed to each expert and shard. Called on the step thread. */
@FunctionalInterface
public interface RoutingObserver {

    RoutingObserver NONE = (layer, routing) -> { };

    /** Receives layer {@code layer}'s routing of {@code routing.rows()} rows; must not keep the arrays. */
    void onRouted(int layer, ExpertRouting routing);
}
