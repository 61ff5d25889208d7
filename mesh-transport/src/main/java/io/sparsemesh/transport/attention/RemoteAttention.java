package io.sparsemesh.transport.attention;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.DescribeAttentionRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Attention layers that run in attention services: the router's {@link AttentionBackend} over one
 * or more replicas, each serving a layer range.
 *
 * <p>Replicas that serve the same range are interchangeable for new sequences; together the
 * distinct ranges must cover the model's layers without overlap. Most deployments run every
 * replica over all layers. A sequence is pinned, per range, to one replica at its first step
 * (see {@link ReplicaGroup} for the choice) and stays there until {@link #release}, because its
 * caches live there.
 *
 * <p>Each replica gets one long-lived Forward stream. {@link AttentionStep#forward} sends every
 * replica its rows of the layer, then waits for each response up to
 * {@link RemoteAttentionOptions#responseTimeout()}. A failure ends only the sequences it names,
 * through {@link SequenceFailedException}: those a replica rejected (e.g. RESOURCE_EXHAUSTED over
 * its limits), or all sequences on a replica whose stream ended, since the replica frees the
 * caches of a stream's sequences when the stream ends. Sequences on other replicas go on.
 *
 * <p>Sequence ids must be unique among all routers that share a replica, because caches are keyed
 * by id alone and a replica rejects an id that another stream holds. An id must also not be
 * reused after {@link #release}, because the Release call runs in the background and could free
 * the new sequence's caches.
 *
 * <p>Thread-safe: steps may run concurrently (e.g. two micro-batches), each from one thread.
 */
public final class RemoteAttention implements AttentionBackend {

    private static final Logger log = LoggerFactory.getLogger(RemoteAttention.class);

    private final int numLayers;
    private final int hiddenSize;
    private final RemoteAttentionOptions options;
    private final Map<AttentionReplica, LayerRange> replicaRanges;
    private final List<ReplicaConnection> connections = new ArrayList<>();
    private final ReplicaGroup[] groups;
    private final int[] groupOfLayer;
    private final AtomicLong nextStepId = new AtomicLong(1);
    private final ConcurrentLinkedQueue<StepBuffers> spareBuffers = new ConcurrentLinkedQueue<>();

    RemoteAttention(int numLayers, int hiddenSize, Map<AttentionReplica, LayerRange> ranges,
                    RemoteAttentionOptions options) {
        this.numLayers = numLayers;
        this.hiddenSize = hiddenSize;
        this.options = options;
        this.replicaRanges = Collections.unmodifiableMap(new LinkedHashMap<>(ranges));
        Map<LayerRange, List<ReplicaConnection>> byRange = new LinkedHashMap<>();
        ranges.forEach((replica, range) -> {
            ReplicaConnection connection = new ReplicaConnection(replica, range, options);
            connections.add(connection);
            byRange.computeIfAbsent(range, r -> new ArrayList<>()).add(connection);
        });
        this.groups = byRange.entrySet().stream()
                .sorted(Comparator.comparingInt(entry -> entry.getKey().first()))
                .map(entry -> new ReplicaGroup(entry.getKey(), entry.getValue()))
                .toArray(ReplicaGroup[]::new);
        this.groupOfLayer = layerMap(groups, numLayers, byRange);
    }

    /**
     * Asks each replica for its layer range (Describe, with the options' call deadline) and
     * checks it against {@code config}. Throws {@link IllegalStateException} when a Describe call
     * fails and {@link IllegalArgumentException} when the replicas do not fit the model.
     */
    public static RemoteAttention connect(ModelConfig config, List<AttentionReplica> replicas,
                                          RemoteAttentionOptions options) {
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("no attention replicas given; pass at least one");
        }
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        for (AttentionReplica replica : replicas) {
            AttentionInfo info = describe(replica, options.callTimeout());
            if (info.getHiddenSize() != config.hiddenSize()) {
                throw new IllegalArgumentException("attention replica " + replica.name() + " serves " + info.getModel()
                        + " with hidden size " + info.getHiddenSize() + ", but this model's hidden size is "
                        + config.hiddenSize() + "; point the router and the replica at the same model");
            }
            LayerRange range = new LayerRange(info.getFirstLayer(), info.getEndLayer());
            log.info("Attention replica {} serves layers {} of {}: {} of {} sequences, {} of {} tokens cached",
                    replica.name(), range, info.getModel(), info.getCachedSequences(), info.getMaxSequences(),
                    info.getCachedTokens(), info.getMaxCachedTokens());
            ranges.put(replica, range);
        }
        return new RemoteAttention(config.numLayers(), config.hiddenSize(), ranges, options);
    }

    private static AttentionInfo describe(AttentionReplica replica, Duration timeout) {
        try {
            return AttentionGrpc.newBlockingStub(replica.channel())
                    .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                    .describe(DescribeAttentionRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw new IllegalStateException("Describe on attention replica " + replica.name() + " failed: "
                    + e.getStatus().getCode() + " " + e.getStatus().getDescription()
                    + "; check that the attention service runs there", e);
        }
    }

    /** Maps each layer to its group, checking that the groups' ranges cover {@code [0, numLayers)} exactly once. */
    private static int[] layerMap(ReplicaGroup[] groups, int numLayers, Map<LayerRange, List<ReplicaConnection>> byRange) {
        int[] groupOfLayer = new int[numLayers];
        int covered = 0;
        for (int g = 0; g < groups.length; g++) {
            LayerRange range = groups[g].range();
            if (range.first() != covered || range.end() > numLayers) {
                throw new IllegalArgumentException("the attention replicas must cover layers [0, " + numLayers
                        + ") with ranges that neither overlap nor leave gaps, but they serve " + describeRanges(byRange)
                        + "; give every replica a range that starts where another one ends, or all layers");
            }
            for (int layer = range.first(); layer < range.end(); layer++) {
                groupOfLayer[layer] = g;
            }
            covered = range.end();
        }
        if (covered != numLayers) {
            throw new IllegalArgumentException("the attention replicas serve only layers [0, " + covered + ") of "
                    + numLayers + " (" + describeRanges(byRange) + "); add replicas for layers [" + covered + ", "
                    + numLayers + ")");
        }
        return groupOfLayer;
    }

    private static String describeRanges(Map<LayerRange, List<ReplicaConnection>> byRange) {
        List<String> parts = new ArrayList<>();
        byRange.forEach((range, replicas) -> parts.add(range + " on "
                + replicas.stream().map(ReplicaConnection::name).toList()));
        return String.join(", ", parts);
    }

    @Override
    public AttentionStep beginStep(long[] sequenceIds, int[] positions, int rows) {
        if (rows > sequenceIds.length || rows > positions.length) {
            throw new IllegalArgumentException("a step of " + rows + " rows needs that many sequence ids and positions,"
                    + " got " + sequenceIds.length + " and " + positions.length);
        }
        failLostSequences(sequenceIds, rows);
        StepBuffers buffers = spareBuffers.poll();
        if (buffers == null) {
            buffers = new StepBuffers(groups);
        }
        buffers.assign(groups, sequenceIds, positions, rows);
        return new RemoteAttentionStep(this, buffers);
    }

    /** Throws for the rows whose caches went away with an ended stream, before anything is sent. */
    private void failLostSequences(long[] sequenceIds, int rows) {
        Set<Long> lost = null;
        StringBuilder reasons = null;
        Status status = null;
        for (ReplicaGroup group : groups) {
            for (int row = 0; row < rows; row++) {
                ReplicaGroup.Pin pin = group.pinOf(sequenceIds[row]);
                if (pin == null || !pin.lost()) {
                    continue;
                }
                if (lost == null) {
                    lost = new LinkedHashSet<>();
                    reasons = new StringBuilder();
                    status = pin.replica.lastFailure();
                }
                if (lost.add(sequenceIds[row])) {
                    Status reason = pin.replica.lastFailure();
                    reasons.append(reasons.isEmpty() ? "" : "; ").append("sequence ").append(sequenceIds[row])
                            .append(" on replica ").append(pin.replica.name()).append(" (").append(reason.getCode())
                            .append(": ").append(reason.getDescription()).append(')');
                }
            }
        }
        if (lost != null) {
            throw new SequenceFailedException("the caches of " + lost.size() + " sequences were lost when their"
                    + " attention stream ended: " + reasons + "; release them and start them again from position 0",
                    status, lost.stream().mapToLong(Long::longValue).toArray());
        }
    }

    @Override
    public void release(long sequenceId) {
        for (ReplicaGroup group : groups) {
            ReplicaGroup.Pin pin = group.unpin(sequenceId);
            if (pin != null && pin.epoch >= 0 && !pin.lost()) {
                pin.replica.release(sequenceId);
            }
        }
    }

    /** Waits until every Release call sent so far has finished; returns false when {@code timeout} passed first. */
    public boolean flushReleases(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ReplicaConnection connection : connections) {
            if (!connection.awaitReleases(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /** Returns each replica with the layer range it reported when the router connected, in the order given. */
    public Map<AttentionReplica, LayerRange> replicaRanges() {
        return replicaRanges;
    }

    /** Sequences pinned to each replica by this router, by replica name. */
    public Map<String, Integer> pinnedSequences() {
        Map<String, Integer> pinned = new LinkedHashMap<>();
        for (ReplicaConnection connection : connections) {
            pinned.merge(connection.name(), connection.pinnedSequences().get(), Integer::sum);
        }
        return pinned;
    }

    /** Flushes pending releases (up to the call timeout) and half-closes every stream, which frees their sequences' caches. */
    @Override
    public void close() {
        try {
            if (!flushReleases(options.callTimeout())) {
                log.warn("Release calls did not finish within {}; closing the attention streams anyway",
                        options.callTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ReplicaConnection connection : connections) {
            connection.close();
        }
    }

    int numLayers() {
        return numLayers;
    }

    int hiddenSize() {
        return hiddenSize;
    }

    RemoteAttentionOptions options() {
        return options;
    }

    ReplicaGroup group(int layer) {
        return groups[groupOfLayer[layer]];
    }

    int groupIndex(int layer) {
        return groupOfLayer[layer];
    }

    long nextStepId() {
        return nextStepId.getAndIncrement();
    }

    /** Takes back the buffers of a step that completed, for the next step. */
    void recycle(StepBuffers buffers) {
        spareBuffers.add(buffers);
    }
}
