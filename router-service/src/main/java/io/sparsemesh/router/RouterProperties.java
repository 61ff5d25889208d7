package io.sparsemesh.router;

import io.sparsemesh.core.moe.ExpertShard;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Router settings ({@code sparsemesh.router.*}).
 *
 * @param model          checkpoint to serve: a GGUF file, a llama2.c {@code .bin} or a Hugging Face folder
 * @param tokenizer      tokenizer file for checkpoints that carry none; default: none
 * @param modelId        name clients use in requests; default: the checkpoint's file or folder name
 * @param scheduler      continuous batching limits
 * @param mesh           where attention and experts run; default: all in this process
 * @param pingPong       whether a step over two or more sequences runs as two micro-batches on two
 *                       threads. Their attention and expert hops then overlap. Default false
 * @param healthCheck    how the readiness check reaches the services behind the router
 */
@Validated
@ConfigurationProperties("sparsemesh.router")
public record RouterProperties(
        @NotNull Path model,
        Path tokenizer,
        String modelId,
        @Valid @DefaultValue Scheduler scheduler,
        @Valid @DefaultValue Mesh mesh,
        @DefaultValue("false") boolean pingPong,
        @Valid @DefaultValue HealthCheck healthCheck) {

    /** The model id clients address, from {@code model-id} or the checkpoint's name. */
    public String resolvedModelId() {
        if (modelId != null && !modelId.isBlank()) {
            return modelId;
        }
        return defaultModelId(model);
    }

    /** Returns the model id a router serving {@code model} uses when none is set: its file or folder name without the extension. */
    public static String defaultModelId(Path model) {
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /**
     * @param maxStepTokens   rows per forward step, decode rows plus prompt chunks; default 512
     * @param maxPrefillChunk prompt tokens of one sequence per step; default 256
     * @param maxSequences    sequences in the running batch; default 64
     * @param contextLength   tokens per sequence, prompt plus output; default the model's, at most 4096
     */
    public record Scheduler(
            @DefaultValue("512") @Min(1) int maxStepTokens,
            @DefaultValue("256") @Min(1) int maxPrefillChunk,
            @DefaultValue("64") @Min(1) int maxSequences,
            Integer contextLength) {
    }

    /**
     * @param attention      attention replica targets ({@code host:port}, {@code dns:///name:port} or
     *                       {@code in-process:name}); empty runs attention in this process
     * @param expertShards   per expert shard, its replica targets separated by commas; empty runs experts here
     * @param densePlacement where dense layers' FFNs run: ROUTER (default) or SHARDS
     * @param tokenizer      tokenizer service target; empty uses the checkpoint's tokenizer in this process
     * @param wireDtype      tensor element type on the wire: BF16 (default) or F32
     * @param callTimeout    deadline of one layer's call to an attention or expert replica; default 30 s
     */
    public record Mesh(
            @DefaultValue List<String> attention,
            @DefaultValue List<String> expertShards,
            @DefaultValue("ROUTER") ExpertShard.DensePlacement densePlacement,
            String tokenizer,
            @DefaultValue("BF16") WireDtype wireDtype,
            @DefaultValue("30s") Duration callTimeout) {
    }

    /**
     * @param timeout    deadline of the Describe call that checks one replica of a backend service; default 1 s
     * @param timeToLive how long health requests reuse a check's result before the next request checks
     *                   again; default 2 s
     */
    public record HealthCheck(
            @DefaultValue("1s") Duration timeout,
            @DefaultValue("2s") Duration timeToLive) {

        public HealthCheck {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("sparsemesh.router.health-check.timeout must be positive, got " + timeout);
            }
            if (timeToLive.isNegative()) {
                throw new IllegalArgumentException("sparsemesh.router.health-check.time-to-live must be >= 0, got "
                        + timeToLive);
            }
        }
    }

    /** Element type of hidden states between the router and the services. */
    public enum WireDtype { BF16, F32 }
}
