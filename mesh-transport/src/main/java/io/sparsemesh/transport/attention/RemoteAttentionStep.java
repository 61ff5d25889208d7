package io.sparsemesh.transport.attention;

import io.grpc.Status;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.SequenceFailure;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One forward step of {@link RemoteAttention}: per layer, sends each replica its rows, then waits
 * for every response before returning or throwing, so that each stream's responses stay paired
 * with its requests.
 */
final class RemoteAttentionStep implements AttentionBackend.AttentionStep {

    private final RemoteAttention attention;
    private final StepBuffers buffers;
    private int nextLayer;
    private boolean finished;

    RemoteAttentionStep(RemoteAttention attention, StepBuffers buffers) {
        this.attention = attention;
        this.buffers = buffers;
    }

    @Override
    public void forward(int layer, float[] input, float[] output) {
        if (finished) {
            throw new IllegalStateException("this attention step already ran its last layer or failed; begin a new step");
        }
        if (layer != nextLayer) {
            throw new IllegalStateException("attention layers run in order within a step: expected layer " + nextLayer
                    + ", got " + layer);
        }
        int group = attention.groupIndex(layer);
        ReplicaGroup replicas = attention.group(layer);
        ReplicaRows[] parts = buffers.rows[group];
        boolean opening = layer == replicas.range().first();
        if (opening) {
            buffers.stepIds[group] = attention.nextStepId();
        }
        long stepId = buffers.stepIds[group];
        int hidden = attention.hiddenSize();

        // send every replica its rows of this layer
        long sentAt = System.nanoTime();
        for (int r = 0; r < parts.length; r++) {
            ReplicaRows part = parts[r];
            if (part.count() == 0) {
                continue;
            }
            long requiredEpoch = opening ? part.openingEpoch() : part.stepEpoch;
            long epoch = replicas.replica(r).send(
                    part.request(stepId, layer, input, hidden, attention.options().wireDType()), part.pending,
                    requiredEpoch);
            part.sentEpoch = epoch;
            if (opening && epoch >= 0) {
                part.opened(epoch);
            }
        }

        // wait for every response, then scatter the outputs or report the failures together
        long deadline = sentAt + attention.options().responseTimeout().toNanos();
        Failures failures = null;
        for (int r = 0; r < parts.length; r++) {
            ReplicaRows part = parts[r];
            if (part.count() == 0) {
                continue;
            }
            Failures failed = receive(replicas.replica(r), part, stepId, layer, deadline, output, hidden);
            if (failed != null) {
                failures = failures == null ? failed : failures.add(failed);
            }
        }
        if (failures != null) {
            finished = true;
            throw failures.toException(layer);
        }

        nextLayer++;
        if (nextLayer == attention.numLayers()) {
            finished = true;
            attention.recycle(buffers);
        }
    }

    /** Waits for one replica's response and writes its rows of {@code output}; returns its failure or null. */
    private Failures receive(ReplicaConnection replica, ReplicaRows part, long stepId, int layer, long deadline,
                             float[] output, int hidden) {
        try {
            if (!part.pending.await(deadline)) {
                replica.reset(part.sentEpoch, Status.DEADLINE_EXCEEDED.withDescription("attention replica " + replica.name()
                        + " did not answer layer " + layer + " of step " + stepId + " within "
                        + attention.options().responseTimeout()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            replica.reset(part.sentEpoch, Status.CANCELLED.withDescription("the router thread was interrupted while waiting for"
                    + " attention replica " + replica.name()));
        }

        Status streamFailure = part.pending.failure();
        if (streamFailure != null) {
            return new Failures(replica, streamFailure, part.distinctSequenceIds());
        }
        AttentionResponse response = part.pending.response();
        if (response.hasFailure()) {
            SequenceFailure failure = response.getFailure();
            Status status = Status.fromCodeValue(failure.getCode()).withDescription(failure.getMessage());
            long[] ids = failure.getSequenceIdsCount() > 0
                    ? failure.getSequenceIdsList().stream().mapToLong(Long::longValue).toArray()
                    : part.distinctSequenceIds();
            return new Failures(replica, status, ids);
        }
        try {
            part.receive(response.getOutput(), output, hidden);
            return null;
        } catch (IllegalArgumentException e) {
            return new Failures(replica, Status.INTERNAL.withDescription("attention replica " + replica.name()
                    + " sent an invalid output tensor: " + e.getMessage()), part.distinctSequenceIds());
        }
    }

    /** The failures of one layer, from one or more replicas. */
    private static final class Failures {
        private final Status first;
        private final Set<Long> sequenceIds = new LinkedHashSet<>();
        private final StringBuilder reasons = new StringBuilder();

        Failures(ReplicaConnection replica, Status status, long[] ids) {
            this.first = status;
            append(replica.name(), status, ids);
        }

        Failures add(Failures other) {
            sequenceIds.addAll(other.sequenceIds);
            reasons.append("; ").append(other.reasons);
            return this;
        }

        private void append(String replica, Status status, long[] ids) {
            for (long id : ids) {
                sequenceIds.add(id);
            }
            reasons.append("replica ").append(replica).append(" failed sequences ")
                    .append(Arrays.toString(ids)).append(" with ").append(status.getCode()).append(": ")
                    .append(status.getDescription());
        }

        SequenceFailedException toException(int layer) {
            long[] ids = sequenceIds.stream().mapToLong(Long::longValue).toArray();
            return new SequenceFailedException("attention layer " + layer + " failed for sequences "
                    + Arrays.toString(ids) + ": " + reasons, first, ids);
        }
    }
}
