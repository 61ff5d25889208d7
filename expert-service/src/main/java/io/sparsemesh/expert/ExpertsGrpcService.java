package io.sparsemesh.expert;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code Experts} gRPC service of one expert shard. Stateless between requests: each Forward
 * stream gets its own scratch buffers and requests are computed in the order they arrive, one at
 * a time per stream (gRPC delivers a stream's messages serially and requests the next one only
 * after {@code onNext} returns, which is the stream's flow control). Streams run concurrently.
 *
 * <p>Shutdown: {@link #drain()} makes the service turn away new streams and end each open stream
 * with UNAVAILABLE as soon as its current request has been answered, so the router sends the
 * following requests to another replica. Call it just before {@code Server.shutdown()}, then wait
 * for the server to terminate within a grace period.
 *
 * <p>A plain class so that the standalone launcher can host it on an in-process server.
 */
public class ExpertsGrpcService extends ExpertsGrpc.ExpertsImplBase {

    private static final Logger log = LoggerFactory.getLogger(ExpertsGrpcService.class);

    private final HostedShard hosted;
    private final ShardForward forward;
    private final ExpertMetrics metrics;
    private final Set<ForwardStream> streams = ConcurrentHashMap.newKeySet();
    private final AtomicInteger activeRequests = new AtomicInteger();
    private volatile boolean draining;

    /**
     * @param registry          where the service's meters ({@link ExpertMetrics}) are registered
     * @param maxRowsPerRequest rows one request may carry; more are rejected with RESOURCE_EXHAUSTED
     */
    public ExpertsGrpcService(HostedShard hosted, MeterRegistry registry, int maxRowsPerRequest) {
        this.hosted = hosted;
        this.metrics = new ExpertMetrics(registry, hosted, this::activeStreams, this::activeRequests);
        this.forward = new ShardForward(hosted, metrics, maxRowsPerRequest);
    }

    @Override
    public StreamObserver<ExpertRequest> forward(StreamObserver<ExpertResponse> responseObserver) {
        ServerCallStreamObserver<ExpertResponse> responses = (ServerCallStreamObserver<ExpertResponse>) responseObserver;
        ForwardStream stream = new ForwardStream(responses);
        if (draining) {
            stream.rejectDraining();
            return stream;
        }
        responses.setOnCancelHandler(stream::cancelled);
        streams.add(stream);
        if (draining) {
            stream.drain(); // drain() began after the check above and may have missed this stream
        }
        return stream;
    }

    @Override
    public void describe(DescribeExpertsRequest request, StreamObserver<ExpertShardInfo> responseObserver) {
        responseObserver.onNext(ExpertShardInfo.newBuilder()
                .setModel(hosted.model())
                .setShard(hosted.shard())
                .setShardCount(hosted.shardCount())
                .addAllExpertIds(hosted.experts().expertIds().stream().sorted().toList())
                .addAllDenseLayers(hosted.denseLayers().stream().sorted().toList())
                .setMappedBytes(hosted.mappedBytes())
                .build());
        responseObserver.onCompleted();
    }

    /**
     * Stops taking new streams and ends the open ones after their current request. Returns at
     * once; the server's termination shows when the last request has its response.
     */
    public void drain() {
        draining = true;
        log.info("Expert shard {} draining: {} open streams, {} requests being computed", hosted.shard(),
                streams.size(), activeRequests.get());
        for (ForwardStream stream : streams) {
            stream.drain();
        }
    }

    public boolean isDraining() {
        return draining;
    }

    /** Returns the number of open Forward streams. */
    public int activeStreams() {
        return streams.size();
    }

    /** Returns the number of requests being computed now. */
    public int activeRequests() {
        return activeRequests.get();
    }

    /** One router's Forward stream: requests in, one response per request in order. */
    private final class ForwardStream implements StreamObserver<ExpertRequest> {

        private final ServerCallStreamObserver<ExpertResponse> responses;
        private final Workspace workspace = new Workspace();
        private boolean computing;     // guarded by this
        private boolean closed;        // guarded by this
        private boolean drainRequested; // guarded by this

        ForwardStream(ServerCallStreamObserver<ExpertResponse> responses) {
            this.responses = responses;
        }

        @Override
        public void onNext(ExpertRequest request) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                computing = true;
            }
            activeRequests.incrementAndGet();
            try {
                responses.onNext(forward.forward(request, workspace));
            } catch (StatusRuntimeException e) {
                fail(request, e.getStatus());
            } catch (RuntimeException e) {
                log.error("Expert shard {} failed on layer {} request {}", hosted.shard(), request.getLayer(),
                        request.getCallId(), e);
                fail(request, Status.INTERNAL.withDescription("expert shard " + hosted.shard() + " failed on layer "
                        + request.getLayer() + ": " + e));
            } finally {
                activeRequests.decrementAndGet();
                synchronized (this) {
                    computing = false;
                    if (drainRequested) {
                        closeDraining();
                    }
                }
            }
        }

        /** Ends the stream with {@code status}; a status ends a gRPC call, so the stream's later requests are dropped. */
        private synchronized void fail(ExpertRequest request, Status status) {
            metrics.recordError(status.getCode());
            // invalid requests are a caller's bug and may repeat at every step, so they log at debug level
            if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
                log.debug("Expert shard {} rejects layer {} request {}: {}", hosted.shard(), request.getLayer(),
                        request.getCallId(), status);
            } else {
                log.warn("Expert shard {} ends a stream on layer {} request {}: {}", hosted.shard(), request.getLayer(),
                        request.getCallId(), status);
            }
            if (!closed) {
                closed = true;
                streams.remove(this);
                responses.onError(status.asRuntimeException());
            }
        }

        @Override
        public void onError(Throwable error) {
            synchronized (this) {
                closed = true;
            }
            streams.remove(this);
            log.debug("Forward stream to expert shard {} ended by the client: {}", hosted.shard(), Status.fromThrowable(error));
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                responses.onCompleted();
            }
            streams.remove(this);
        }

        void cancelled() {
            synchronized (this) {
                closed = true;
            }
            streams.remove(this);
        }

        /** Ends the stream now when idle, or after the request being computed. */
        synchronized void drain() {
            if (closed) {
                return;
            }
            if (computing) {
                drainRequested = true;
            } else {
                closeDraining();
            }
        }

        synchronized void rejectDraining() {
            closed = true;
            responses.onError(drainingStatus().asRuntimeException());
        }

        private void closeDraining() {
            if (!closed) {
                closed = true;
                streams.remove(this);
                responses.onError(drainingStatus().asRuntimeException());
            }
        }

        private Status drainingStatus() {
            return Status.UNAVAILABLE.withDescription("expert shard " + hosted.shard()
                    + " is shutting down; send the request to another replica of the shard");
        }
    }
}
