package io.sparsemesh.attention;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.DescribeAttentionRequest;
import io.sparsemesh.protocol.v1.ReleaseRequest;
import io.sparsemesh.protocol.v1.ReleaseResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Attention gRPC service over an {@link AttentionServer}. A plain class, so that Spring and
 * an in-process launcher can both host it.
 *
 * <p>Forward runs each request on the thread that delivers it (gRPC's call executor, one message
 * of a call at a time). With grpc-java's automatic inbound flow control the next request is read
 * only after the previous one returned its response, so a stream buffers at most one request. When
 * the stream ends in any way, the sequences it opened are freed.
 */
public final class AttentionGrpcService extends AttentionGrpc.AttentionImplBase {

    private static final Logger log = LoggerFactory.getLogger(AttentionGrpcService.class);

    private final AttentionServer server;

    public AttentionGrpcService(AttentionServer server) {
        this.server = server;
    }

    @Override
    public StreamObserver<AttentionRequest> forward(StreamObserver<AttentionResponse> responses) {
        ForwardSession session = server.openSession();
        ServerCallStreamObserver<AttentionResponse> call = (ServerCallStreamObserver<AttentionResponse>) responses;
        call.setOnCancelHandler(session::close);
        return new StreamObserver<>() {
            @Override
            public void onNext(AttentionRequest request) {
                AttentionResponse response = session.handle(request);
                if (!call.isCancelled()) {
                    call.onNext(response);
                }
            }

            @Override
            public void onError(Throwable error) {
                log.debug("Forward stream {} failed on the client side: {}", session.streamId(), error.toString());
                session.close();
            }

            @Override
            public void onCompleted() {
                session.close();
                call.onCompleted();
            }
        };
    }

    @Override
    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> responses) {
        long[] ids = request.getSequenceIdsList().stream().mapToLong(Long::longValue).toArray();
        int released = server.release(ids);
        log.debug("Released {} of {} sequences", released, ids.length);
        responses.onNext(ReleaseResponse.newBuilder().setReleased(released).build());
        responses.onCompleted();
    }

    @Override
    public void describe(DescribeAttentionRequest request, StreamObserver<AttentionInfo> responses) {
        try {
            responses.onNext(server.describe());
            responses.onCompleted();
        } catch (RuntimeException e) {
            log.error("Describe failed", e);
            responses.onError(Status.INTERNAL.withDescription("describe failed: " + e).asRuntimeException());
        }
    }
}
