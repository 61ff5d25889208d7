package io.sparsemesh.transport.attention;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.sparsemesh.core.engine.AttentionBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link RemoteAttention} lays replicas over layers and pins sequences. Beginning a step pins
 * without sending anything, so these tests need no server; the channels lead nowhere.
 */
class RemoteAttentionTopologyTest {

    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    private AttentionReplica replica(String name) {
        ManagedChannel channel = InProcessChannelBuilder.forName("nowhere-" + name).build();
        channels.add(channel);
        return new AttentionReplica(name, channel);
    }

    private RemoteAttention attention(int numLayers, Map<AttentionReplica, LayerRange> ranges) {
        return new RemoteAttention(numLayers, 8, ranges, RemoteAttentionOptions.defaults());
    }

    @Test
    void overlappingRangesAreRejected() {
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        ranges.put(replica("a"), new LayerRange(0, 2));
        ranges.put(replica("b"), new LayerRange(1, 3));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> attention(3, ranges));
        assertTrue(error.getMessage().contains("[0, 2) on [a], [1, 3) on [b]"), error.getMessage());
    }

    @Test
    void missingLayersAreRejected() {
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        ranges.put(replica("a"), new LayerRange(0, 2));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> attention(3, ranges));
        assertTrue(error.getMessage().contains("add replicas for layers [2, 3)"), error.getMessage());
    }

    @Test
    void rangesPastTheModelAreRejected() {
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        ranges.put(replica("a"), new LayerRange(0, 4));
        assertThrows(IllegalArgumentException.class, () -> attention(3, ranges));
    }

    @Test
    void newSequencesGoToLeastLoaded() {
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        ranges.put(replica("a"), LayerRange.all(2));
        ranges.put(replica("b"), LayerRange.all(2));
        ranges.put(replica("c"), LayerRange.all(2));
        try (RemoteAttention attention = attention(2, ranges)) {
            attention.beginStep(new long[] {1, 1, 2, 3, 4, 5, 6}, new int[] {0, 1, 0, 0, 0, 0, 0}, 7);
            assertEquals(Map.of("a", 2, "b", 2, "c", 2), attention.pinnedSequences());

            // pins stay where they are; releasing frees room that the next new sequence takes
            attention.beginStep(new long[] {1, 2, 3}, new int[] {2, 1, 1}, 3);
            assertEquals(Map.of("a", 2, "b", 2, "c", 2), attention.pinnedSequences());
            String emptied = attention.pinnedSequences().keySet().iterator().next();
            long[] released = pinnedTo(attention, emptied, new long[] {1, 2, 3, 4, 5, 6});
            for (long id : released) {
                attention.release(id);
            }
            attention.beginStep(new long[] {7}, new int[] {0}, 1);
            assertEquals(1, attention.pinnedSequences().get(emptied));
        }
    }

    @Test
    void eachLayerRangePinsSeparately() {
        Map<AttentionReplica, LayerRange> ranges = new LinkedHashMap<>();
        ranges.put(replica("back"), new LayerRange(2, 4));
        ranges.put(replica("front-1"), new LayerRange(0, 2));
        ranges.put(replica("front-2"), new LayerRange(0, 2));
        try (RemoteAttention attention = attention(4, ranges)) {
            attention.beginStep(new long[] {1, 2}, new int[] {0, 0}, 2);
            assertEquals(Map.of("back", 2, "front-1", 1, "front-2", 1), attention.pinnedSequences());
            attention.release(1);
            attention.release(2);
            assertEquals(Map.of("back", 0, "front-1", 0, "front-2", 0), attention.pinnedSequences());
        }
    }

    @Test
    void layersMustRunInOrder() {
        Map<AttentionReplica, LayerRange> ranges = Map.of(replica("a"), LayerRange.all(2));
        try (RemoteAttention attention = attention(2, ranges)) {
            AttentionBackend.AttentionStep step = attention.beginStep(new long[] {1}, new int[] {0}, 1);
            IllegalStateException error = assertThrows(IllegalStateException.class,
                    () -> step.forward(1, new float[8], new float[8]));
            assertTrue(error.getMessage().contains("expected layer 0, got 1"), error.getMessage());
        }
    }

    /** Returns the ids among {@code candidates} that are pinned to {@code replica}. */
    private static long[] pinnedTo(RemoteAttention attention, String replica, long[] candidates) {
        List<Long> pinned = new ArrayList<>();
        for (long id : candidates) {
            ReplicaGroup.Pin pin = attention.group(0).pinOf(id);
            if (pin != null && pin.replica.name().equals(replica)) {
                pinned.add(id);
            }
        }
        return pinned.stream().mapToLong(Long::longValue).toArray();
    }
}
