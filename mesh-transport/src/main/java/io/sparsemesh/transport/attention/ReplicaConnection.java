package io.sparsemesh.transport.attention;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.ReleaseRequest;
import io.sparsemesh.protocol.v1.ReleaseResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The router's long-lived Forward stream to one attention replica, opened on first use and again
 * after it ends. Responses come back in request order, so each one completes the oldest
 * {@link PendingResponse}.
 *
 * <p>The replica frees the caches of every sequence a stream opened when that stream ends, so a
 * sequence lives on one stream: the stream's {@linkplain #epoch() epoch} (the number of streams
 * that ended before it) is recorded with each sequence's pin, and a pin of an earlier epoch means
 * the caches are gone.
 *
 * <p>Flow control: a step sends one request per layer and waits for its response, so a stream
 * carries at most one request per concurrent step and its send buffer stays small without
 * checking {@code isReady}.
 */
final class ReplicaConnection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReplicaConnection.class);

    private final AttentionReplica replica;
    private final LayerRange range;
    private final AttentionGrpc.AttentionStub stub;
    private final Duration callTimeout;
    private final long reconnectBackoffNanos;
    private final AtomicInteger pinnedSequences = new AtomicInteger();

    private final Object lock = new Object();
    // guarded by lock
    private final ArrayDeque<PendingResponse> inFlight = new ArrayDeque<>();
    private ClientCallStreamObserver<AttentionRequest> requests;
    private long epoch;
    private Status lastFailure = Status.UNAVAILABLE.withDescription("no stream has failed");
    private long failedAtNanos;
    private boolean everFailed;
    private boolean closed;
    private final List<Long> releaseQueue = new ArrayList<>();
    private boolean releaseInFlight;

    ReplicaConnection(AttentionReplica replica, LayerRange range, RemoteAttentionOptions options) {
        this.replica = replica;
        this.range = range;
        this.stub = AttentionGrpc.newStub(replica.channel());
        this.callTimeout = options.callTimeout();
        this.reconnectBackoffNanos = options.reconnectBackoff().toNanos();
    }

    String name() {
        return replica.name();
    }

    LayerRange range() {
        return range;
    }

    AtomicInteger pinnedSequences() {
        return pinnedSequences;
    }

    /** Returns the number of streams to this replica that have ended, which is the current stream's epoch. */
    long epoch() {
        synchronized (lock) {
            return epoch;
        }
    }

    /** Returns the status that ended the last stream. */
    Status lastFailure() {
        synchronized (lock) {
            return lastFailure;
        }
    }

    /**
     * Returns whether new sequences may be pinned here. They may not while the connection is closed
     * or within the reconnect back-off after a stream failed. After the back-off, a replica whose
     * stream failed takes new sequences only once its channel is connected again. Asking for the
     * state starts a connection attempt when the channel is idle.
     */
    boolean acceptsNewSequences(long nowNanos) {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            if (!everFailed) {
                return true;
            }
            if (nowNanos - failedAtNanos < reconnectBackoffNanos) {
                return false;
            }
        }
        return !(replica.channel() instanceof ManagedChannel managed)
                || managed.getState(true) == ConnectivityState.READY;
    }

    /**
     * Sends {@code request} on the current stream, opening one when none is open, and queues
     * {@code pending} for its response. With {@code requiredEpoch >= 0} the request goes out only
     * on the stream of that epoch; otherwise {@code pending} fails at once with the reason that
     * stream ended.
     *
     * @return the epoch of the stream the request went out on, or -1 when it was not sent
     */
    long send(AttentionRequest request, PendingResponse pending, long requiredEpoch) {
        pending.start(request.getStepId(), request.getLayer());
        synchronized (lock) {
            if (closed) {
                pending.fail(Status.CANCELLED.withDescription("the connection to attention replica " + name()
                        + " is closed"));
                return -1;
            }
            if (requiredEpoch >= 0 && requiredEpoch != epoch) {
                pending.fail(lastFailure);
                return -1;
            }
            if (requests == null && !openStream()) {
                pending.fail(lastFailure);
                return -1;
            }
            inFlight.addLast(pending);
            requests.onNext(request);
            return epoch;
        }
    }

    /**
     * Opens the stream of the current epoch, and returns false when it ended while it started. With
     * a direct executor, callbacks run on the calling thread. So when the channel cannot reach the
     * replica, the stream fails inside this call and its epoch has already moved on.
     */
    private boolean openStream() {
        long streamEpoch = epoch;
        StreamHandler handler = new StreamHandler(streamEpoch);
        stub.forward(handler);
        if (epoch != streamEpoch) {
            log.warn("Attention stream {} to replica {} failed to open: {} {}", streamEpoch, name(),
                    lastFailure.getCode(), lastFailure.getDescription());
            return false;
        }
        requests = handler.requestStream;
        log.info("Opened attention stream {} to replica {} (layers {})", epoch, name(), range);
        return true;
    }

    /**
     * Ends stream {@code streamEpoch} because of {@code status} (a missed deadline, a protocol
     * error) and cancels it; does nothing when that stream has already ended.
     */
    void reset(long streamEpoch, Status status) {
        ClientCallStreamObserver<AttentionRequest> stream;
        synchronized (lock) {
            if (streamEpoch != epoch) {
                return;
            }
            stream = requests;
        }
        streamEnded(streamEpoch, status);
        if (stream != null) {
            stream.cancel(status.getDescription(), status.getCause());
        }
    }

    private void streamEnded(long streamEpoch, Status status) {
        List<PendingResponse> failed;
        boolean closing;
        synchronized (lock) {
            if (streamEpoch != epoch) {
                return;
            }
            closing = closed;
            epoch++;
            requests = null;
            lastFailure = status;
            failedAtNanos = System.nanoTime();
            everFailed = true;
            failed = new ArrayList<>(inFlight);
            inFlight.clear();
        }
        if (!closing) {
            log.warn("Attention stream {} to replica {} ended with {}: {}; its {} pinned sequences lose their caches",
                    streamEpoch, name(), status.getCode(), status.getDescription(), pinnedSequences.get());
        }
        for (PendingResponse pending : failed) {
            pending.fail(status);
        }
    }

    private void received(long streamEpoch, AttentionResponse response) {
        PendingResponse pending;
        synchronized (lock) {
            if (streamEpoch != epoch) {
                return;
            }
            pending = inFlight.pollFirst();
        }
        if (pending == null) {
            reset(streamEpoch, Status.INTERNAL.withDescription("attention replica " + name() + " sent a response (step "
                    + response.getStepId() + ", layer " + response.getLayer() + ") that no request is waiting for"));
        } else if (pending.stepId() != response.getStepId() || pending.layer() != response.getLayer()) {
            Status mismatch = Status.INTERNAL.withDescription("attention replica " + name() + " answered step "
                    + response.getStepId() + " layer " + response.getLayer() + " where step " + pending.stepId()
                    + " layer " + pending.layer() + " was expected");
            pending.fail(mismatch);
            reset(streamEpoch, mismatch);
        } else {
            pending.complete(response);
        }
    }

    /** Queues {@code sequenceId} for a batched Release call; one call is in flight at a time and takes every queued id. */
    void release(long sequenceId) {
        long[] batch;
        synchronized (lock) {
            releaseQueue.add(sequenceId);
            if (releaseInFlight) {
                return;
            }
            releaseInFlight = true;
            batch = drainReleases();
        }
        sendRelease(batch);
    }

    private long[] drainReleases() {
        long[] batch = new long[releaseQueue.size()];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = releaseQueue.get(i);
        }
        releaseQueue.clear();
        return batch;
    }

    private void sendRelease(long[] ids) {
        ReleaseRequest.Builder request = ReleaseRequest.newBuilder();
        for (long id : ids) {
            request.addSequenceIds(id);
        }
        stub.withDeadlineAfter(callTimeout.toNanos(), TimeUnit.NANOSECONDS).release(request.build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ReleaseResponse response) {
                        log.debug("Replica {} freed {} of {} released sequences", name(), response.getReleased(),
                                ids.length);
                    }

                    @Override
                    public void onError(Throwable error) {
                        Status status = Status.fromThrowable(error);
                        log.warn("Release of {} sequences on attention replica {} failed with {}: {}; the replica"
                                        + " frees them when their stream ends or after its idle timeout",
                                ids.length, name(), status.getCode(), status.getDescription());
                        releaseDone();
                    }

                    @Override
                    public void onCompleted() {
                        releaseDone();
                    }
                });
    }

    private void releaseDone() {
        long[] batch;
        synchronized (lock) {
            if (releaseQueue.isEmpty()) {
                releaseInFlight = false;
                lock.notifyAll();
                return;
            }
            batch = drainReleases();
        }
        sendRelease(batch);
    }

    /** Waits until every queued Release call has finished; returns false when {@code timeout} passed first. */
    boolean awaitReleases(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (releaseInFlight) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, remaining / 1_000_000));
            }
            return true;
        }
    }

    /** Half-closes the stream, so that the replica frees the sequences it opened, and fails what is still waiting. */
    @Override
    public void close() {
        ClientCallStreamObserver<AttentionRequest> stream;
        long current;
        synchronized (lock) {
            closed = true;
            stream = requests;
            current = epoch;
        }
        streamEnded(current, Status.CANCELLED.withDescription("the connection to attention replica " + name()
                + " was closed"));
        if (stream != null) {
            stream.onCompleted();
        }
    }

    /**
     * Returns the status to report for a stream that ended from the replica's side. This router cancels
     * a stream only after moving on to the next epoch, so a CANCELLED that reaches the current
     * stream came from the replica (e.g. a server shutting down) and is reported as UNAVAILABLE.
     */
    private Status peerFailure(Status status) {
        if (status.getCode() != Status.Code.CANCELLED) {
            return status;
        }
        return Status.UNAVAILABLE.withDescription("attention replica " + name() + " cancelled the stream ("
                + status.getDescription() + ")").withCause(status.getCause());
    }

    /** Callbacks of one stream; they act only while that stream is the current one. */
    private final class StreamHandler implements ClientResponseObserver<AttentionRequest, AttentionResponse> {

        private final long streamEpoch;
        private ClientCallStreamObserver<AttentionRequest> requestStream;

        StreamHandler(long streamEpoch) {
            this.streamEpoch = streamEpoch;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<AttentionRequest> stream) {
            this.requestStream = stream;
        }

        @Override
        public void onNext(AttentionResponse response) {
            received(streamEpoch, response);
        }

        @Override
        public void onError(Throwable error) {
            streamEnded(streamEpoch, peerFailure(Status.fromThrowable(error)));
        }

        @Override
        public void onCompleted() {
            streamEnded(streamEpoch, Status.UNAVAILABLE.withDescription("attention replica " + name()
                    + " closed the stream"));
        }
    }
}
