package io.sparsemesh.expert;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertsGrpc;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A raw {@code Experts/Forward} stream for tests: what came back and how the stream ended. */
final class ForwardCalls implements StreamObserver<ExpertResponse> {

    final List<ExpertResponse> responses = new CopyOnWriteArrayList<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private final Semaphore received = new Semaphore(0);
    private final StreamObserver<ExpertRequest> requests;

    private ForwardCalls(ExpertsGrpc.ExpertsStub stub) {
        this.requests = stub.withDeadlineAfter(60, TimeUnit.SECONDS).forward(this);
    }

    static ForwardCalls open(ManagedChannel channel) {
        return new ForwardCalls(ExpertsGrpc.newStub(channel));
    }

    void send(ExpertRequest request) {
        requests.onNext(request);
    }

    void halfClose() {
        requests.onCompleted();
    }

    /** Waits for the stream to end and returns its status. */
    Status awaitEnd() throws Exception {
        return ended.get(60, TimeUnit.SECONDS);
    }

    /** Waits until {@code count} more responses have arrived. */
    void awaitResponses(int count) throws InterruptedException {
        if (!received.tryAcquire(count, 60, TimeUnit.SECONDS)) {
            throw new AssertionError("expected " + count + " more responses, got " + received.availablePermits());
        }
    }

    /** Sends {@code request} on a new stream and returns the status that ends it. */
    static Status errorOf(ManagedChannel channel, ExpertRequest request) throws Exception {
        ForwardCalls calls = open(channel);
        calls.send(request);
        Status status = calls.awaitEnd();
        calls.halfClose();
        return status;
    }

    @Override
    public void onNext(ExpertResponse response) {
        responses.add(response);
        received.release();
    }

    @Override
    public void onError(Throwable error) {
        ended.complete(Status.fromThrowable(error));
    }

    @Override
    public void onCompleted() {
        ended.complete(Status.OK);
    }
}
