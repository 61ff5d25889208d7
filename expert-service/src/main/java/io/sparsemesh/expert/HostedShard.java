package io.sparsemesh.expert;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;

import java.nio.file.Path;
import java.util.Set;

/**
 * The expert shard this service hosts, with the checkpoint it maps its tensors from. Closing it
 * unmaps the tensors, so it must outlive every request.
 */
public final class HostedShard implements AutoCloseable {

    private final String model;
    private final ModelCheckpoint checkpoint;
    private final ExpertShard experts;
    private final DensePlacement densePlacement;
    private final Set<Integer> denseLayers;

    public HostedShard(String model, ModelCheckpoint checkpoint, ExpertShard experts, DensePlacement densePlacement) {
        this.model = model;
        this.checkpoint = checkpoint;
        this.experts = experts;
        this.densePlacement = densePlacement;
        this.denseLayers = Set.copyOf(experts.denseLayers());
    }

    /**
     * Opens the checkpoint at {@code modelPath} and maps shard {@code shard} of {@code shardCount}:
     * routed expert {@code e} when {@code e mod shardCount == shard}, and with
     * {@link DensePlacement#SHARDS} the dense FFN of layer {@code l} when {@code l mod shardCount == shard}.
     */
    public static HostedShard load(Path modelPath, int shard, int shardCount, DensePlacement densePlacement) {
        ShardLayout layout = new ShardLayout(shardCount);
        if (shard < 0 || shard >= shardCount) {
            throw new IllegalArgumentException("shard " + shard + " is outside [0, " + shardCount + "); set the shard"
                    + " index below the shard count");
        }
        ModelCheckpoint checkpoint = Checkpoints.open(modelPath, null);
        try {
            ExpertShard experts = ExpertShard.load(checkpoint.store(), checkpoint.config(), layout, shard, densePlacement);
            return new HostedShard(modelPath.getFileName().toString(), checkpoint, experts, densePlacement);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** Model name reported by {@code Describe}: the checkpoint's file or folder name. */
    public String model() {
        return model;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public ExpertShard experts() {
        return experts;
    }

    public int shard() {
        return experts.shard();
    }

    public int shardCount() {
        return experts.layout().shardCount();
    }

    /** Dense layers whose FFN this shard holds. */
    public Set<Integer> denseLayers() {
        return denseLayers;
    }

    public DensePlacement densePlacement() {
        return densePlacement;
    }

    /** Bytes of tensors mapped from the checkpoint so far. */
    public long mappedBytes() {
        return checkpoint.store().mappedBytes();
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
