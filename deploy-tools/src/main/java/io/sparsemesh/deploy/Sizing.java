package io.sparsemesh.deploy;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.sparsemesh.core.config.ModelConfig;

/**
 * Memory and CPU of each component, from the bytes it maps and the heap it needs.
 *
 * <p>Mapped weights live outside the Java heap, but their pages count against the container's
 * memory limit, so a component's limit is {@code mapped + heap + JVM overhead}. The heap is a
 * fixed fraction of the limit ({@code -XX:MaxRAMPercentage}, set per image in the service's Jib
 * configuration; Netty's direct memory defaults to the same maximum), so the limit is also at
 * least {@code heap / fraction}. Memory requests equal limits: a component whose weights are
 * evicted from memory gets slow rather than failing, and the scheduler must not overcommit it.
 * CPU has a request and no limit, so that a busy replica is not throttled in the middle of a step.
 */
public final class Sizing {

    static final long MIB = 1L << 20;
    /** Metaspace, code cache, thread stacks and Netty's buffers outside the heap. */
    static final long JVM_OVERHEAD = 256 * MIB;

    /** {@code -XX:MaxRAMPercentage} of each image, as its pom's Jib configuration sets it. */
    public static final int EXPERT_HEAP_PERCENT = 25;
    public static final int ATTENTION_HEAP_PERCENT = 60;
    public static final int ROUTER_HEAP_PERCENT = 50;
    public static final int TOKENIZER_HEAP_PERCENT = 50;
    public static final int GATEWAY_HEAP_PERCENT = 50;

    /** Rows of one expert request the service accepts, its {@code max-rows-per-request} default. */
    static final long EXPERT_MAX_ROWS = 4096;
    /** Rows of one router step, its {@code scheduler.max-step-tokens} default. */
    static final long ROUTER_STEP_ROWS = 512;

    private Sizing() {
    }

    /** Sizes an expert shard that maps {@code mappedBytes}, with scratch for the largest request's rows in F32. */
    static ResourceRequirements expert(ModelConfig config, long mappedBytes) {
        long ffnWidth = Math.max(config.intermediateSize(), config.moe() == null ? 0 : config.moe().moeIntermediateSize());
        long scratch = EXPERT_MAX_ROWS * (3L * config.hiddenSize() + 2 * ffnWidth) * Float.BYTES;
        return resources(mappedBytes, 256 * MIB + scratch, EXPERT_HEAP_PERCENT, "1");
    }

    /** Sizes an attention replica, whose caches of {@code maxCachedTokens} positions live on the heap. */
    static ResourceRequirements attention(long mappedBytes, long cacheBytesPerToken, long maxCachedTokens) {
        return resources(mappedBytes, 256 * MIB + cacheBytesPerToken * maxCachedTokens, ATTENTION_HEAP_PERCENT, "1");
    }

    /** The router: logits of a whole step, plus hidden rows of every layer in flight. */
    static ResourceRequirements router(ModelConfig config, long mappedBytes) {
        long stepBuffers = ROUTER_STEP_ROWS * (config.vocabSize() + 8L * config.hiddenSize()) * Float.BYTES;
        return resources(mappedBytes, 512 * MIB + stepBuffers, ROUTER_HEAP_PERCENT, "1");
    }

    static ResourceRequirements tokenizer() {
        return resources(0, 256 * MIB, TOKENIZER_HEAP_PERCENT, "250m");
    }

    static ResourceRequirements gateway() {
        return resources(0, 256 * MIB, GATEWAY_HEAP_PERCENT, "250m");
    }

    /** Memory limit: room for the mapped bytes, the heap and the overhead, and at least heap / fraction. */
    static long memoryLimit(long mappedBytes, long heapBytes, int heapPercent) {
        long byParts = mappedBytes + heapBytes + JVM_OVERHEAD;
        long byFraction = heapBytes * 100 / heapPercent;
        long bytes = Math.max(byParts, byFraction);
        long step = 64 * MIB;
        return (bytes + step - 1) / step * step;
    }

    static ResourceRequirements resources(long mappedBytes, long heapBytes, int heapPercent, String cpu) {
        Quantity memory = new Quantity(memoryLimit(mappedBytes, heapBytes, heapPercent) / MIB + "Mi");
        return new ResourceRequirementsBuilder()
                .addToRequests("cpu", new Quantity(cpu))
                .addToRequests("memory", memory)
                .addToLimits("memory", memory)
                .build();
    }

    /** Fixed resources of the infrastructure containers (Redis, Kafka). */
    static ResourceRequirements fixed(String cpu, String memory) {
        return new ResourceRequirementsBuilder()
                .addToRequests("cpu", new Quantity(cpu))
                .addToRequests("memory", new Quantity(memory))
                .addToLimits("memory", new Quantity(memory))
                .build();
    }
}
