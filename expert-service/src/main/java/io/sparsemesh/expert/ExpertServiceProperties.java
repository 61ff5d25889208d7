package io.sparsemesh.expert;

import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;

/**
 * Settings of one expert shard ({@code sparsemesh.expert.*}). Every replica of a shard uses the
 * same model, shard index, shard count and dense placement, and so does the router.
 *
 * @param model             checkpoint to serve: a GGUF file, a llama2.c {@code .bin} or a Hugging Face
 *                          folder; default {@code models/stories260K/stories260K.gguf} (the bundled
 *                          model, relative to the working directory)
 * @param shard             index of this shard in {@code [0, shard-count)}; default 0
 * @param shardCount        number of expert shards the model is spread over; routed expert {@code e}
 *                          lives on shard {@code e mod shard-count}; default 1
 * @param densePlacement    where dense FFNs run: {@code shards} puts layer {@code l}'s on shard
 *                          {@code l mod shard-count}, {@code router} keeps them in the router;
 *                          default {@code shards}
 * @param maxRowsPerRequest rows one Forward request may carry; larger requests are rejected with
 *                          RESOURCE_EXHAUSTED; default 4096
 */
@Validated
@ConfigurationProperties("sparsemesh.expert")
public record ExpertServiceProperties(
        @NotNull @DefaultValue("models/stories260K/stories260K.gguf") Path model,
        @Min(0) @DefaultValue("0") int shard,
        @Min(1) @DefaultValue("1") int shardCount,
        @NotNull @DefaultValue("shards") DensePlacement densePlacement,
        @Min(1) @Max(1 << 20) @DefaultValue("4096") int maxRowsPerRequest) {

    public ExpertServiceProperties {
        if (shard >= shardCount) {
            throw new IllegalArgumentException("sparsemesh.expert.shard (" + shard + ") must be below"
                    + " sparsemesh.expert.shard-count (" + shardCount + ")");
        }
    }
}
