package io.sparsemesh.transport.attention;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The replicas that serve one layer range, interchangeable for new sequences, and the replica
 * each sequence is pinned to. At its first step a sequence is pinned to the replica with the
 * fewest sequences pinned by this router, with ties going round-robin. Replicas whose stream
 * failed within the reconnect back-off are skipped unless all of them failed. The sequence
 * stays on its replica until it is released.
 */
final class ReplicaGroup {

    /** A sequence's replica, and the epoch of the stream that opened its caches there (-1 before its first request). */
    static final class Pin {
        final int index;
        final ReplicaConnection replica;
        volatile long epoch = -1;

        Pin(int index, ReplicaConnection replica) {
            this.index = index;
            this.replica = replica;
        }

        /** Returns whether the stream that held this sequence's caches has ended. */
        boolean lost() {
            long opened = epoch;
            return opened >= 0 && opened != replica.epoch();
        }
    }

    private final LayerRange range;
    private final ReplicaConnection[] replicas;
    private final ConcurrentHashMap<Long, Pin> pins = new ConcurrentHashMap<>();
    private final AtomicInteger nextChoice = new AtomicInteger();

    ReplicaGroup(LayerRange range, List<ReplicaConnection> replicas) {
        this.range = range;
        this.replicas = replicas.toArray(ReplicaConnection[]::new);
    }

    LayerRange range() {
        return range;
    }

    int size() {
        return replicas.length;
    }

    ReplicaConnection replica(int index) {
        return replicas[index];
    }

    /** Returns the pin of {@code sequenceId}, or null when it has none here. */
    Pin pinOf(long sequenceId) {
        return pins.get(sequenceId);
    }

    /** Returns the pin of {@code sequenceId}, pinning it now when it has none. */
    Pin pin(long sequenceId) {
        Pin pin = pins.get(sequenceId);
        return pin != null ? pin : pins.computeIfAbsent(sequenceId, id -> choose());
    }

    /** Drops the pin of {@code sequenceId}; returns it, or null when there was none. */
    Pin unpin(long sequenceId) {
        Pin pin = pins.remove(sequenceId);
        if (pin != null) {
            pin.replica.pinnedSequences().decrementAndGet();
        }
        return pin;
    }

    private Pin choose() {
        long now = System.nanoTime();
        int start = Math.floorMod(nextChoice.getAndIncrement(), replicas.length);
        int best = -1;
        boolean bestAccepts = false;
        for (int i = 0; i < replicas.length; i++) {
            int candidate = (start + i) % replicas.length;
            boolean accepts = replicas[candidate].acceptsNewSequences(now);
            if (best < 0 || (accepts && !bestAccepts) || (accepts == bestAccepts
                    && replicas[candidate].pinnedSequences().get() < replicas[best].pinnedSequences().get())) {
                best = candidate;
                bestAccepts = accepts;
            }
        }
        replicas[best].pinnedSequences().incrementAndGet();
        return new Pin(best, replicas[best]);
    }
}
