package io.sparsemesh.deploy;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The bytes each component of the mesh maps from a checkpoint, measured by loading the component's
 * tensors with the engine's own loaders (mapping is lazy, so this reads headers, not weights).
 *
 * @param config               the model's shape
 * @param totalBytes           bytes of every tensor in the checkpoint
 * @param attentionBytes       bytes the attention service maps (every layer's attention weights)
 * @param cacheBytesPerToken   KV and indexer cache bytes one token position takes over all layers
 * @param shards               what each expert shard maps, indexed by shard
 * @param routerBytes          the rest: embeddings, norms, gates, shared experts, LM head (and dense
 *                             FFNs when they stay in the router)
 */
public record ModelFootprint(ModelConfig config, long totalBytes, long attentionBytes, long cacheBytesPerToken,
                             List<Shard> shards, long routerBytes) {

    /**
     * One expert shard's part of the model.
     *
     * @param experts     routed expert ids it holds
     * @param denseLayers layers whose dense FFN it holds
     * @param bytes       bytes it maps
     */
    public record Shard(int index, Set<Integer> experts, Set<Integer> denseLayers, long bytes) {
    }

    /** Measures {@code model} split over {@code shardCount} expert shards with the given dense placement. */
    public static ModelFootprint measure(Path model, int shardCount, DensePlacement densePlacement) {
        ShardLayout layout = new ShardLayout(shardCount);
        ModelConfig config;
        long total;
        long attentionBytes;
        long cacheBytesPerToken = 0;
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null)) {
            config = checkpoint.config();
            total = checkpoint.store().tensorNames().stream().mapToLong(name -> checkpoint.store().info(name).byteSize()).sum();
            for (int layer = 0; layer < config.numLayers(); layer++) {
                AttentionLayer attention = TransformerLoader.loadAttention(checkpoint.store(), config, layer);
                cacheBytesPerToken += attention.newCache(1).byteSize();
            }
            attentionBytes = checkpoint.store().mappedBytes();
        }
        List<Shard> shards = new ArrayList<>();
        long shardBytes = 0;
        for (int shard = 0; shard < shardCount; shard++) {
            try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
                 ExpertShard experts = ExpertShard.load(checkpoint.store(), checkpoint.config(), layout, shard, densePlacement)) {
                long bytes = checkpoint.store().mappedBytes();
                shards.add(new Shard(shard, new TreeSet<>(experts.expertIds()), new TreeSet<>(experts.denseLayers()), bytes));
                shardBytes += bytes;
            }
        }
        long routerBytes = Math.max(0, total - attentionBytes - shardBytes);
        return new ModelFootprint(config, total, attentionBytes, cacheBytesPerToken, List.copyOf(shards), routerBytes);
    }
}
