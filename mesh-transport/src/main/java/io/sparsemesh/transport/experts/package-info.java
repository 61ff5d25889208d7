/**
 * The router's client of the expert shards.
 * {@link io.sparsemesh.transport.experts.RemoteExperts} is an
 * {@link io.sparsemesh.core.moe.ExpertBackend} that dispatches a layer's rows to the shards that
 * host their experts, retries a failed replica's request on another replica of the same shard,
 * and adds the partial results in shard order.
 * {@link io.sparsemesh.transport.experts.ShardedTransformerLoader} builds a transformer around it.
 */
package io.sparsemesh.transport.experts;
