package io.sparsemesh.transport.attention;

import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.Tensor;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;

import java.util.Arrays;

/**
 * The rows of one step that one replica runs, with the buffers to gather their hidden states and
 * scatter the replica's output. Kept by a {@link StepBuffers} and reused across steps, so a step
 * allocates only its messages.
 */
final class ReplicaRows {

    final PendingResponse pending = new PendingResponse();
    private int count;
    private int stepRows;
    private int[] rowIndex = new int[0];
    private long[] sequenceIds = new long[0];
    private int[] positions = new int[0];
    private ReplicaGroup.Pin[] pins = new ReplicaGroup.Pin[0];
    private float[] gathered = new float[0];
    /** The epoch of the stream that carries the current step, -1 before its first layer is sent. */
    long stepEpoch = -1;
    /** The epoch of the stream the last request went out on, -1 when it was not sent. */
    long sentEpoch = -1;

    void clear(int rows) {
        count = 0;
        stepRows = rows;
        stepEpoch = -1;
    }

    void add(int row, long sequenceId, int position, ReplicaGroup.Pin pin) {
        if (count == rowIndex.length) {
            int grown = Math.max(8, 2 * count);
            rowIndex = Arrays.copyOf(rowIndex, grown);
            sequenceIds = Arrays.copyOf(sequenceIds, grown);
            positions = Arrays.copyOf(positions, grown);
            pins = Arrays.copyOf(pins, grown);
        }
        rowIndex[count] = row;
        sequenceIds[count] = sequenceId;
        positions[count] = position;
        pins[count] = pin;
        count++;
    }

    int count() {
        return count;
    }

    /** Returns whether this replica runs every row of the step in step order, so that no gather or scatter is needed. */
    private boolean allRows() {
        return count == stepRows;
    }

    /** The stream epoch the step's first request must go out on: the one that opened these sequences, or -1 for any. */
    long openingEpoch() {
        for (int i = 0; i < count; i++) {
            long epoch = pins[i].epoch;
            if (epoch >= 0) {
                return epoch;
            }
        }
        return -1;
    }

    /** Records that the step's first request went out on stream {@code epoch}. */
    void opened(long epoch) {
        stepEpoch = epoch;
        for (int i = 0; i < count; i++) {
            if (pins[i].epoch < 0) {
                pins[i].epoch = epoch;
            }
        }
    }

    /** Builds the request of {@code layer} from the rows' hidden states in {@code input} ({@code stepRows × hidden}). */
    AttentionRequest request(long stepId, int layer, float[] input, int hidden, WireDType dtype) {
        float[] source = input;
        if (!allRows()) {
            if (gathered.length < count * hidden) {
                gathered = new float[count * hidden];
            }
            for (int i = 0; i < count; i++) {
                System.arraycopy(input, rowIndex[i] * hidden, gathered, i * hidden, hidden);
            }
            source = gathered;
        }
        AttentionRequest.Builder request = AttentionRequest.newBuilder()
                .setStepId(stepId)
                .setLayer(layer)
                .setHidden(TensorCodec.encode(source, count, hidden, dtype))
                .setResponseDtype(dtype);
        for (int i = 0; i < count; i++) {
            request.addSequenceIds(sequenceIds[i]);
            request.addPositions(positions[i]);
        }
        return request.build();
    }

    /** Decodes the replica's output and writes each row to its place in {@code output}. */
    void receive(Tensor tensor, float[] output, int hidden) {
        if (allRows()) {
            TensorCodec.decode(tensor, count, hidden, output);
            return;
        }
        if (gathered.length < count * hidden) {
            gathered = new float[count * hidden];
        }
        TensorCodec.decode(tensor, count, hidden, gathered);
        for (int i = 0; i < count; i++) {
            System.arraycopy(gathered, i * hidden, output, rowIndex[i] * hidden, hidden);
        }
    }

    /** Returns the distinct sequences of these rows. */
    long[] distinctSequenceIds() {
        return Arrays.stream(sequenceIds, 0, count).distinct().toArray();
    }
}
