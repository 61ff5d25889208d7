package io.sparsemesh.core.moe;

import java.util.Set;
import java.util.TreeSet;

/**
 * How a model's feed-forward weights are spread over {@code shardCount} expert shards: routed
 * expert {@code e} of every MoE layer lives on shard {@code e mod shardCount}, and the dense FFN
 * of layer {@code l} (Llama layers, DeepSeek's leading dense layers) on shard {@code l mod shardCount}.
 * Round-robin spreads the popular low-numbered experts and consecutive dense layers evenly; the
 * router and every shard compute the same placement from the shard count alone.
 */
public record ShardLayout(int shardCount) {

    public ShardLayout {
        if (shardCount < 1) {
            throw new IllegalArgumentException("the shard count must be >= 1, got " + shardCount);
        }
    }

    public int shardOfExpert(int expertId) {
        return expertId % shardCount;
    }

    public int shardOfDenseLayer(int layer) {
        return layer % shardCount;
    }

    /** Routed expert ids held by {@code shard}, for a layer of {@code numRoutedExperts} experts. */
    public Set<Integer> experts(int shard, int numRoutedExperts) {
        checkShard(shard);
        Set<Integer> ids = new TreeSet<>();
        for (int e = shard; e < numRoutedExperts; e += shardCount) {
            ids.add(e);
        }
        return ids;
    }

    /** Dense layers among {@code denseLayers} whose FFN {@code shard} holds. */
    public Set<Integer> denseLayers(int shard, Set<Integer> denseLayers) {
        checkShard(shard);
        Set<Integer> held = new TreeSet<>();
        for (int layer : denseLayers) {
            if (shardOfDenseLayer(layer) == shard) {
                held.add(layer);
            }
        }
        return held;
    }

    private void checkShard(int shard) {
        if (shard < 0 || shard >= shardCount) {
            throw new IllegalArgumentException("shard " + shard + " is outside [0, " + shardCount + ")");
        }
    }
}
