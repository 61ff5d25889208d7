package io.sparsemesh.transport.experts;

import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.transport.discovery.Replica;

/**
 * The current {@link ExpertStream} of one client to one replica, opened on first use and
 * replaced when it has failed or its deadline is within {@code marginNanos}: the old stream is
 * half-closed, so the requests already on it still get their responses.
 */
final class ExpertStreams implements AutoCloseable {

    private final Replica replica;
    private final long lifetimeNanos;
    private final long marginNanos;
    private ExpertStream current; // guarded by this
    private boolean closed;       // guarded by this

    ExpertStreams(Replica replica, long lifetimeNanos, long marginNanos) {
        if (lifetimeNanos <= marginNanos) {
            throw new IllegalArgumentException("the stream lifetime (" + lifetimeNanos + " ns) must exceed the request"
                    + " timeout (" + marginNanos + " ns), or every stream would be replaced before its first request");
        }
        this.replica = replica;
        this.lifetimeNanos = lifetimeNanos;
        this.marginNanos = marginNanos;
    }

    /** Returns an open stream, opening a new one when there is none or the current one cannot take requests. */
    synchronized ExpertStream current() {
        if (closed) {
            throw new IllegalStateException("the streams to " + replica + " are closed");
        }
        if (current == null || !current.acceptsRequests(System.nanoTime(), marginNanos)) {
            if (current != null) {
                current.halfClose();
            }
            current = ExpertStream.open(ExpertsGrpc.newStub(replica.channel()), replica.target(), lifetimeNanos);
        }
        return current;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (current != null) {
            current.halfClose();
            current = null;
        }
    }
}
