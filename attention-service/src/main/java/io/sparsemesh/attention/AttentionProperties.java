package io.sparsemesh.attention;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the attention service, under {@code sparsemesh.attention}.
 *
 * @param model           the checkpoint: a GGUF file, a llama2.c {@code .bin} file or a Hugging
 *                        Face folder. Required; no default
 * @param firstLayer      the first layer served. Default 0. For models with index sharing it
 *                        must be a FULL indexer layer
 * @param endLayer        one past the last layer served. Default: the model's layer count
 * @param maxSequences    sequences whose caches may be held at once; a step that would open more
 *                        is rejected with RESOURCE_EXHAUSTED. Default 256
 * @param maxCachedTokens token positions that may be cached over all sequences; a step that would
 *                        cache more is rejected with RESOURCE_EXHAUSTED. The bytes per token
 *                        depend on the model and are logged at start-up. Default 262144
 * @param idleTimeout     how long a sequence may go without a step before its caches are freed.
 *                        Default 10m
 * @param contextLength   token positions one sequence may hold. Default: the model's
 *                        {@code max_position_embeddings}, at most 4096
 */
@Validated
@ConfigurationProperties("sparsemesh.attention")
public record AttentionProperties(
        @NotNull Path model,
        @DefaultValue("0") @PositiveOrZero int firstLayer,
        @Positive Integer endLayer,
        @DefaultValue("256") @Positive int maxSequences,
        @DefaultValue("262144") @Positive long maxCachedTokens,
        @DefaultValue("10m") @NotNull Duration idleTimeout,
        @Positive Integer contextLength) {
}
