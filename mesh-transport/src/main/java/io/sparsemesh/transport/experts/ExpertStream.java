package io.sparsemesh.transport.experts;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code Experts/Forward} bidi stream to one replica. Requests from any thread are written in
 * order; each response completes the future of the request with its {@code call_id}. When the
 * stream fails or ends, every unanswered request fails with the stream's status, and later sends
 * fail at once. The stream carries a gRPC deadline ({@code lifetime}); its owner replaces it
 * before the deadline is near, so no request is cut off by it.
 *
 * <p>Flow control: each caller waits for its response before sending again, so a stream
 * carries at most one request per concurrent caller, and the server takes one message at a time.
 */
final class ExpertStream implements ClientResponseObserver<ExpertRequest, ExpertResponse> {

    private static final Logger log = LoggerFactory.getLogger(ExpertStream.class);

    private final String replica;
    private final long expiresAtNanos;
    private final Map<Long, CompletableFuture<ExpertResponse>> pending = new HashMap<>(); // guarded by this
    private ClientCallStreamObserver<ExpertRequest> requests;   // set by beforeStart
    private Status ended;                                       // guarded by this; null while open

    private ExpertStream(String replica, long lifetimeNanos) {
        this.replica = replica;
        this.expiresAtNanos = System.nanoTime() + lifetimeNanos;
    }

    /** Opens a stream on {@code stub} with a deadline {@code lifetimeNanos} from now. */
    static ExpertStream open(ExpertsGrpc.ExpertsStub stub, String replica, long lifetimeNanos) {
        ExpertStream stream = new ExpertStream(replica, lifetimeNanos);
        stub.withDeadlineAfter(lifetimeNanos, TimeUnit.NANOSECONDS).forward(stream);
        return stream;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ExpertRequest> requestStream) {
        this.requests = requestStream;
    }

    /** Sends {@code request}; the future completes with its response or fails with the stream's status. */
    synchronized CompletableFuture<ExpertResponse> send(ExpertRequest request) {
        if (ended != null) {
            return CompletableFuture.failedFuture(ended.asRuntimeException());
        }
        CompletableFuture<ExpertResponse> response = new CompletableFuture<>();
        pending.put(request.getCallId(), response);
        requests.onNext(request);
        return response;
    }

    /** Returns whether new requests may go on this stream: it is open and its deadline is more than {@code marginNanos} away. */
    synchronized boolean acceptsRequests(long nowNanos, long marginNanos) {
        return ended == null && expiresAtNanos - nowNanos > marginNanos;
    }

    /** Half-closes the stream: no more requests follow, and the server still responds to those already sent. */
    synchronized void halfClose() {
        if (ended == null) {
            ended = Status.UNAVAILABLE.withDescription("the stream to " + replica + " was closed by the client");
            requests.onCompleted();
        }
    }

    /** Cancels the stream, failing every unanswered request with CANCELLED. */
    void cancel(String reason) {
        synchronized (this) {
            if (ended == null) {
                ended = Status.CANCELLED.withDescription(reason);
            }
        }
        requests.cancel(reason, null);
    }

    @Override
    public void onNext(ExpertResponse response) {
        CompletableFuture<ExpertResponse> waiting;
        synchronized (this) {
            waiting = pending.remove(response.getCallId());
        }
        if (waiting == null) {
            log.warn("Replica {} sent a response to call {}, which no request on this stream waits for; dropping it",
                    replica, response.getCallId());
            return;
        }
        waiting.complete(response);
    }

    @Override
    public void onError(Throwable error) {
        Status status = Status.fromThrowable(error);
        log.debug("Stream to {} failed: {}", replica, status);
        failPending(status);
    }

    @Override
    public void onCompleted() {
        failPending(Status.UNAVAILABLE.withDescription("replica " + replica + " ended the stream"));
    }

    private void failPending(Status status) {
        List<CompletableFuture<ExpertResponse>> failed;
        synchronized (this) {
            if (ended == null) {
                ended = status;
            }
            failed = new ArrayList<>(pending.values());
            pending.clear();
        }
        for (CompletableFuture<ExpertResponse> waiting : failed) {
            waiting.completeExceptionally(status.asRuntimeException());
        }
    }
}
