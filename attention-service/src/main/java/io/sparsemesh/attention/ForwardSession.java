package io.sparsemesh.attention;

import io.grpc.Status;
import io.sparsemesh.core.attention.AttentionBatch;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.SequenceFailure;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.attention.LayerRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * One Forward stream's state: the steps it has open and its scratch buffers.
 *
 * <p>A request for the range's first layer opens step {@code step_id}. The
 * {@link SequenceCacheRegistry} admits its rows, and they get one {@link AttentionBatch}, which
 * carries the top-k positions a FULL indexer layer selects to the SHARED layers after it. The
 * step's other layers must follow in order with the same rows, and the step is dropped after
 * the range's last layer.
 *
 * <p>A stream may keep {@value #MAX_OPEN_STEPS} steps open, e.g. for interleaved micro-batches.
 * Opening one more drops the oldest. Opening a step also drops every open step that shares a
 * sequence with it, because the router has abandoned that step.
 *
 * <p>Every request gets one response: the output, or a {@code SequenceFailure} that leaves the
 * stream usable. Not thread-safe on its own; gRPC delivers a call's messages one at a time, and
 * {@link #handle} and {@link #close} also lock the session.
 */
final class ForwardSession implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ForwardSession.class);

    static final int MAX_OPEN_STEPS = 4;

    private static final class OpenStep {
        final long stepId;
        final long[] sequenceIds;
        final int[] positions;
        final AttentionBatch batch;
        int nextLayer;

        OpenStep(long stepId, long[] sequenceIds, int[] positions, AttentionBatch batch, int nextLayer) {
            this.stepId = stepId;
            this.sequenceIds = sequenceIds;
            this.positions = positions;
            this.batch = batch;
            this.nextLayer = nextLayer;
        }
    }

    private final long streamId;
    private final AttentionModel model;
    private final LayerRange range;
    private final int hidden;
    private final SequenceCacheRegistry registry;
    private final AttentionMetrics metrics;
    private final Workspace workspace = new Workspace();
    private final LinkedHashMap<Long, OpenStep> openSteps = new LinkedHashMap<>();
    private float[] input = new float[0];
    private float[] output = new float[0];
    private long requests;
    private boolean closed;

    ForwardSession(long streamId, AttentionModel model, SequenceCacheRegistry registry, AttentionMetrics metrics) {
        this.streamId = streamId;
        this.model = model;
        this.range = model.range();
        this.hidden = model.config().hiddenSize();
        this.registry = registry;
        this.metrics = metrics;
    }

    long streamId() {
        return streamId;
    }

    /** Runs one request and returns its response, which carries a failure when the rows could not run. */
    synchronized AttentionResponse handle(AttentionRequest request) {
        requests++;
        try {
            AttentionResponse response = forward(request);
            metrics.countRequest(Status.Code.OK);
            return response;
        } catch (RequestRejectedException e) {
            openSteps.remove(request.getStepId());
            metrics.countRequest(e.code());
            log.debug("Stream {} step {} layer {}: {} {}", streamId, request.getStepId(), request.getLayer(), e.code(),
                    e.getMessage());
            return failure(request, e.code(), e.getMessage(), e.sequenceIds());
        } catch (RuntimeException e) {
            openSteps.remove(request.getStepId());
            metrics.countRequest(Status.Code.INTERNAL);
            long[] ids = distinctSequenceIds(request);
            log.error("Stream {}: layer {} of step {} failed for sequences {}", streamId, request.getLayer(),
                    request.getStepId(), Arrays.toString(ids), e);
            return failure(request, Status.Code.INTERNAL, "layer " + request.getLayer() + " failed in the attention"
                    + " service: " + e, ids);
        }
    }

    private AttentionResponse forward(AttentionRequest request) {
        int layer = request.getLayer();
        int rows = request.getSequenceIdsCount();
        checkShape(request, rows);
        if (input.length < rows * hidden) {
            input = new float[rows * hidden];
            output = new float[rows * hidden];
        }
        try {
            TensorCodec.decode(request.getHidden(), rows, hidden, input);
        } catch (IllegalArgumentException e) {
            throw reject(request, "invalid hidden tensor: " + e.getMessage() + "; send the normalised hidden states as"
                    + " a rows x hidden_size (" + rows + " x " + hidden + ") F32 or BF16 tensor");
        }
        OpenStep step = layer == range.first() ? openStep(request, rows) : continueStep(request, rows);

        // run the layer on the step's batch
        long started = System.nanoTime();
        model.layer(layer).forward(step.batch, input, output);
        metrics.recordLayer(layer, System.nanoTime() - started);

        step.nextLayer++;
        if (step.nextLayer == range.end()) {
            openSteps.remove(step.stepId);
        }
        WireDType dtype = request.getResponseDtype() == WireDType.WIRE_DTYPE_UNSPECIFIED
                ? request.getHidden().getDtype() : request.getResponseDtype();
        return AttentionResponse.newBuilder()
                .setStepId(request.getStepId())
                .setLayer(layer)
                .setOutput(TensorCodec.encode(output, rows, hidden, dtype))
                .build();
    }

    private void checkShape(AttentionRequest request, int rows) {
        if (closed) {
            throw new RequestRejectedException(Status.Code.CANCELLED, "the Forward stream has ended",
                    distinctSequenceIds(request));
        }
        if (!range.contains(request.getLayer())) {
            throw reject(request, "layer " + request.getLayer() + " is outside the layers " + range + " that this"
                    + " attention service serves; send it to a replica that serves it");
        }
        if (rows == 0) {
            throw reject(request, "the request has no rows; send at least one sequence id with its position and"
                    + " hidden state");
        }
        if (request.getPositionsCount() != rows) {
            throw reject(request, "the request has " + rows + " sequence ids but " + request.getPositionsCount()
                    + " positions; send one position per row");
        }
        WireDType responseDtype = request.getResponseDtype();
        if (responseDtype != WireDType.WIRE_DTYPE_UNSPECIFIED && responseDtype != WireDType.WIRE_DTYPE_F32
                && responseDtype != WireDType.WIRE_DTYPE_BF16) {
            throw reject(request, "unsupported response dtype " + responseDtype + "; ask for WIRE_DTYPE_F32 or"
                    + " WIRE_DTYPE_BF16");
        }
    }

    private OpenStep openStep(AttentionRequest request, int rows) {
        long[] sequenceIds = new long[rows];
        int[] positions = new int[rows];
        for (int row = 0; row < rows; row++) {
            sequenceIds[row] = request.getSequenceIds(row);
            positions[row] = request.getPositions(row);
        }
        SequenceCaches[] caches = registry.admit(streamId, sequenceIds, positions, rows, System.nanoTime());

        dropAbandonedSteps(request.getStepId(), sequenceIds);
        OpenStep step = new OpenStep(request.getStepId(), sequenceIds, positions,
                new AttentionBatch(positions, caches, workspace), range.first());
        openSteps.put(step.stepId, step);
        return step;
    }

    /** Drops the open steps that share a sequence with a new step, or the oldest when too many are open. */
    private void dropAbandonedSteps(long stepId, long[] sequenceIds) {
        openSteps.remove(stepId);
        if (openSteps.isEmpty()) {
            return;
        }
        Set<Long> ids = new HashSet<>();
        for (long id : sequenceIds) {
            ids.add(id);
        }
        for (Iterator<OpenStep> it = openSteps.values().iterator(); it.hasNext(); ) {
            OpenStep open = it.next();
            for (long id : open.sequenceIds) {
                if (ids.contains(id)) {
                    log.debug("Stream {}: step {} shares sequence {} with new step {}; dropping it at layer {}",
                            streamId, open.stepId, id, stepId, open.nextLayer);
                    it.remove();
                    break;
                }
            }
        }
        while (openSteps.size() >= MAX_OPEN_STEPS) {
            Iterator<OpenStep> oldest = openSteps.values().iterator();
            log.debug("Stream {}: {} steps open, dropping step {}", streamId, openSteps.size(), oldest.next().stepId);
            oldest.remove();
        }
    }

    private OpenStep continueStep(AttentionRequest request, int rows) {
        OpenStep step = openSteps.get(request.getStepId());
        if (step == null) {
            throw reject(request, "step " + request.getStepId() + " is not open on this stream; a step starts with a"
                    + " request for layer " + range.first() + " (an open step is dropped when one of its layers fails"
                    + " or a later step reuses its sequences)");
        }
        if (request.getLayer() != step.nextLayer) {
            throw reject(request, "step " + step.stepId + " expects layer " + step.nextLayer + " next, got layer "
                    + request.getLayer() + "; send a step's layers in order");
        }
        boolean same = rows == step.sequenceIds.length;
        for (int row = 0; same && row < rows; row++) {
            same = request.getSequenceIds(row) == step.sequenceIds[row] && request.getPositions(row) == step.positions[row];
        }
        if (!same) {
            throw reject(request, "layer " + request.getLayer() + " of step " + step.stepId + " must carry the same"
                    + " sequence ids and positions, in the same order, as the step's first layer");
        }
        return step;
    }

    private static RequestRejectedException reject(AttentionRequest request, String message) {
        return new RequestRejectedException(Status.Code.INVALID_ARGUMENT, message, distinctSequenceIds(request));
    }

    private static AttentionResponse failure(AttentionRequest request, Status.Code code, String message, long[] ids) {
        SequenceFailure.Builder failure = SequenceFailure.newBuilder().setCode(code.value()).setMessage(message);
        for (long id : ids) {
            failure.addSequenceIds(id);
        }
        return AttentionResponse.newBuilder()
                .setStepId(request.getStepId())
                .setLayer(request.getLayer())
                .setFailure(failure)
                .build();
    }

    private static long[] distinctSequenceIds(AttentionRequest request) {
        return request.getSequenceIdsList().stream().mapToLong(Long::longValue).distinct().toArray();
    }

    /** Ends the session and frees every sequence this stream opened; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        openSteps.clear();
        int freed = registry.releaseOwnedBy(streamId);
        log.info("Forward stream {} ended after {} requests; freed its {} sequences", streamId, requests, freed);
    }
}
