package io.sparsemesh.expert;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A server interceptor that holds the responses matching a predicate on their way out until the
 * test releases them (at most 60 s), so a request stays in flight for as long as the test needs.
 */
final class HeldResponses implements ServerInterceptor {

    private final Predicate<Object> held;
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch first = new CountDownLatch(1);
    private final AtomicInteger count = new AtomicInteger();

    HeldResponses(Predicate<Object> held) {
        this.held = held;
    }

    /** Waits until a matching response is being held. */
    void awaitHeld() throws InterruptedException {
        if (!first.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("no response was held within 30 s");
        }
    }

    /** Lets every held response, and every later one, go out. */
    void release() {
        release.countDown();
    }

    /** Returns the number of responses held so far. */
    int count() {
        return count.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                if (held.test(message)) {
                    count.incrementAndGet();
                    first.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                super.sendMessage(message);
            }
        }, headers);
    }
}
