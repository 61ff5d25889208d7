package io.sparsemesh.transport.tokenizer;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sparsemesh.protocol.v1.DecodeStreamRequest;
import io.sparsemesh.protocol.v1.DecodeStreamResponse;
import io.sparsemesh.protocol.v1.TokenizerGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Incremental detokenisation of one sequence over the {@code DecodeStream} RPC. Each {@link #push}
 * sends the new token ids and waits for the text they complete; a chunk never ends inside a UTF-8
 * character. {@link #finish} returns what is held back and ends the stream. One request is in flight
 * at a time, which bounds what either side buffers. Not thread-safe: one session per sequence.
 */
public final class DecodeSession implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DecodeSession.class);
    private static final String METHOD = "DecodeStream";

    /** Marks the end of the response stream in {@link #responses}. */
    private static final Object COMPLETED = new Object();

    private final Duration callTimeout;
    private final BlockingQueue<Object> responses = new LinkedBlockingQueue<>();
    private final ClientCallStreamObserver<DecodeStreamRequest> requests;
    private boolean finished;

    DecodeSession(TokenizerGrpc.TokenizerStub stub, Duration callTimeout, Duration sessionTimeout) {
        this.callTimeout = callTimeout;
        ResponseObserver observer = new ResponseObserver();
        stub.withDeadlineAfter(sessionTimeout.toNanos(), TimeUnit.NANOSECONDS).decodeStream(observer);
        this.requests = observer.requests;
    }

    private final class ResponseObserver implements ClientResponseObserver<DecodeStreamRequest, DecodeStreamResponse> {
        private ClientCallStreamObserver<DecodeStreamRequest> requests;

        @Override
        public void beforeStart(ClientCallStreamObserver<DecodeStreamRequest> requestStream) {
            this.requests = requestStream;
        }

        @Override
        public void onNext(DecodeStreamResponse response) {
            responses.add(response);
        }

        @Override
        public void onError(Throwable error) {
            responses.add(error);
        }

        @Override
        public void onCompleted() {
            responses.add(COMPLETED);
        }
    }

    /** Sends {@code ids} and returns the text they complete (possibly empty). */
    public String push(int... ids) {
        return exchange(ids, false);
    }

    /** Returns what is still held back (an unfinished character as U+FFFD) and ends the stream. */
    public String finish() {
        return exchange(new int[0], true);
    }

    private String exchange(int[] ids, boolean flush) {
        if (finished) {
            throw new IllegalStateException("the decode session has finished; open a new one for another sequence");
        }
        DecodeStreamRequest.Builder request = DecodeStreamRequest.newBuilder().setFlush(flush);
        for (int id : ids) {
            request.addIds(id);
        }
        requests.onNext(request.build());
        if (flush) {
            requests.onCompleted();
        }
        Object response = await();
        if (response instanceof DecodeStreamResponse chunk) {
            if (flush) {
                finished = true;
                awaitCompletion();
            }
            return chunk.getText();
        }
        finished = true;
        if (response instanceof Throwable error) {
            throw RemoteTokenizer.failure(METHOD, error);
        }
        throw new RemoteTokenizerException(METHOD,
                Status.INTERNAL.withDescription("the server ended the stream without answering the request"), null);
    }

    private Object await() {
        try {
            Object response = responses.poll(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
            if (response == null) {
                finished = true;
                requests.cancel("no response within " + callTimeout, null);
                throw new RemoteTokenizerException(METHOD, Status.DEADLINE_EXCEEDED.withDescription(
                        "no response within " + callTimeout), null);
            }
            return response;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = true;
            requests.cancel("interrupted", e);
            throw new RemoteTokenizerException(METHOD, Status.CANCELLED.withDescription("interrupted"), e);
        }
    }

    private void awaitCompletion() {
        Object end = await();
        if (end instanceof Throwable error) {
            throw RemoteTokenizer.failure(METHOD, error);
        }
    }

    /** Cancels the stream unless {@link #finish} ended it, for example when generation stops early. */
    @Override
    public void close() {
        if (!finished) {
            finished = true;
            requests.cancel("the decode session was closed before finish()", null);
            log.debug("Cancelled an unfinished decode session");
        }
    }
}
