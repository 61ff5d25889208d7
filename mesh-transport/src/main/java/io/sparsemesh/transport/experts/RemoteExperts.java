package io.sparsemesh.transport.experts;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparsemesh.core.engine.FailureCode;
import io.sparsemesh.core.engine.RowsFailedException;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The router's {@link ExpertBackend} over expert services: a layer's rows are grouped by the
 * shard that hosts their experts ({@link ShardLayout}), sent to one replica of each shard in
 * parallel over long-lived bidi streams, and the shards' partial sums are added in shard order.
 * A dense layer's rows all go to the one shard that contains its FFN.
 *
 * <p>Results equal the single-process engine's except for the order of float additions: the local
 * engine adds a row's expert outputs in ascending expert id, and this client adds per-shard sums
 * in shard order. Within a shard the order is the same, and two terms add the same either way, so
 * rows whose experts span at most two shards (every row of a top-2 model) are bit-identical in
 * F32. With three or more shards per row, results may differ in the last bits.
 *
 * <p>Failures: a request that fails or exceeds {@code requestTimeout} on one replica is sent again
 * to another replica of the same shard (the step goes on with the same result), and the failed
 * replica sits out. When no replica of a shard is left, the call throws
 * {@link ShardUnavailableException} (status UNAVAILABLE, naming the shard). Errors that another
 * replica would repeat (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...) are thrown at once as a
 * {@link StatusRuntimeException}.
 *
 * <p>Safe to call from several threads (e.g. two micro-batches in flight). Owns the endpoint groups.
 */
public final class RemoteExperts implements ExpertBackend {

    private static final Logger log = LoggerFactory.getLogger(RemoteExperts.class);

    private enum Buffer { GATHERED, PARTIAL }

    /**
     * Client settings.
     *
     * @param wireDType      element type of hidden rows on the wire, both ways: BF16 (half the bytes) or F32 (exact)
     * @param requestTimeout deadline of each request on one replica, after which it goes to another replica
     * @param streamLifetime gRPC deadline of each long-lived stream; a stream is replaced before it expires
     */
    public record Options(WireDType wireDType, Duration requestTimeout, Duration streamLifetime) {

        public Options {
            if (wireDType != WireDType.WIRE_DTYPE_F32 && wireDType != WireDType.WIRE_DTYPE_BF16) {
                throw new IllegalArgumentException("the wire dtype must be WIRE_DTYPE_F32 or WIRE_DTYPE_BF16, got " + wireDType);
            }
            if (requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("the request timeout must be positive, got " + requestTimeout);
            }
            if (streamLifetime.compareTo(requestTimeout.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("the stream lifetime (" + streamLifetime + ") must be at least twice"
                        + " the request timeout (" + requestTimeout + ")");
            }
        }

        /** BF16 on the wire, 10 s per request, streams renewed every 30 minutes. */
        public static Options defaults() {
            return new Options(WireDType.WIRE_DTYPE_BF16, Duration.ofSeconds(10), Duration.ofMinutes(30));
        }

        public Options withWireDType(WireDType dtype) {
            return new Options(dtype, requestTimeout, streamLifetime);
        }

        public Options withRequestTimeout(Duration timeout) {
            return new Options(wireDType, timeout, streamLifetime);
        }
    }

    private final ShardLayout layout;
    private final int hiddenSize;
    private final List<EndpointGroup> shards;
    private final Options options;
    private final AtomicLong nextCallId = new AtomicLong(1);
    private final ThreadLocal<Scratch> threadScratch;

    /**
     * @param shards the replicas of each shard, indexed by shard; as many as {@code layout.shardCount()}
     */
    public RemoteExperts(ShardLayout layout, int hiddenSize, List<EndpointGroup> shards, Options options) {
        if (shards.size() != layout.shardCount()) {
            throw new IllegalArgumentException("the layout has " + layout.shardCount() + " expert shards but "
                    + shards.size() + " endpoint groups were given; give one group per shard");
        }
        this.layout = layout;
        this.hiddenSize = hiddenSize;
        this.shards = List.copyOf(shards);
        this.options = options;
        this.threadScratch = ThreadLocal.withInitial(() -> new Scratch(layout.shardCount()));
    }

    public ShardLayout layout() {
        return layout;
    }

    public Options options() {
        return options;
    }

    /** Returns the endpoint group of each shard, indexed by shard. */
    public List<EndpointGroup> shards() {
        return shards;
    }

    @Override
    public void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output) {
        if (routing.rows() != rows) {
            throw new IllegalArgumentException("routing has " + routing.rows() + " rows, input has " + rows);
        }
        Scratch scratch = threadScratch.get();
        int shardCount = layout.shardCount();

        // group rows by shard: a row goes to every shard that hosts at least one of its experts
        scratch.groupRows(routing, layout);

        // send each shard its rows, with the routing slots of other shards' experts set to -1
        Call[] calls = new Call[shardCount];
        ShardUnavailableException unavailable = null;
        java.util.BitSet failedRows = new java.util.BitSet(rows);
        for (int shard = 0; shard < shardCount; shard++) {
            if (scratch.rowCounts[shard] > 0) {
                ExpertRequest request = routedRequest(layer, input, routing, shard, scratch);
                try {
                    calls[shard] = send(shard, request, new LinkedHashSet<>());
                } catch (ShardUnavailableException e) {
                    unavailable = e;
                    markRows(failedRows, scratch, shard);
                }
            }
        }

        // add the partial sums into the rows they came from, shard by shard
        Arrays.fill(output, 0, rows * hiddenSize, 0f);
        for (int shard = 0; shard < shardCount; shard++) {
            if (calls[shard] == null) {
                continue;
            }
            int count = scratch.rowCounts[shard];
            float[] partial = scratch.workspace.floats(Buffer.PARTIAL, count * hiddenSize);
            try {
                await(calls[shard], count, partial);
            } catch (ShardUnavailableException e) {
                unavailable = e;
                markRows(failedRows, scratch, shard);
                continue;
            }
            int[] shardRows = scratch.rowsOfShard[shard];
            for (int i = 0; i < count; i++) {
                int to = shardRows[i] * hiddenSize;
                int from = i * hiddenSize;
                for (int d = 0; d < hiddenSize; d++) {
                    output[to + d] += partial[from + d];
                }
            }
        }
        if (unavailable != null) {
            // Only the rows routed to the dead shard fail; the scheduler ends their sequences and reruns the step.
            throw new RowsFailedException(failedRows.stream().toArray(), FailureCode.UNAVAILABLE,
                    unavailable.getStatus().getDescription(), unavailable);
        }
    }

    @Override
    public void forwardDense(int layer, float[] input, int rows, float[] output) {
        int shard = layout.shardOfDenseLayer(layer);
        ExpertRequest request = ExpertRequest.newBuilder()
                .setCallId(nextCallId.getAndIncrement())
                .setLayer(layer)
                .setHidden(TensorCodec.encode(input, rows, hiddenSize, options.wireDType()))
                .setDense(true)
                .setResponseDtype(options.wireDType())
                .build();
        try {
            await(send(shard, request, new LinkedHashSet<>()), rows, output);
        } catch (ShardUnavailableException e) {
            throw new RowsFailedException(java.util.stream.IntStream.range(0, rows).toArray(), FailureCode.UNAVAILABLE,
                    e.getStatus().getDescription(), e);
        }
    }

    private static void markRows(java.util.BitSet failedRows, Scratch scratch, int shard) {
        int[] shardRows = scratch.rowsOfShard[shard];
        for (int i = 0; i < scratch.rowCounts[shard]; i++) {
            failedRows.set(shardRows[i]);
        }
    }

    /** Asks a replica of {@code shard} which experts and dense layers it hosts, trying the other replicas when one fails. */
    public ExpertShardInfo describe(int shard) {
        EndpointGroup group = shards.get(shard);
        Set<Replica> tried = new LinkedHashSet<>();
        RuntimeException lastFailure = null;
        for (Replica replica = group.choose(tried); replica != null; replica = group.choose(tried)) {
            tried.add(replica);
            try {
                ExpertShardInfo info = ExpertsGrpc.newBlockingStub(replica.channel())
                        .withDeadlineAfter(options.requestTimeout().toNanos(), TimeUnit.NANOSECONDS)
                        .describe(DescribeExpertsRequest.getDefaultInstance());
                group.markSucceeded(replica);
                return info;
            } catch (RuntimeException e) {
                group.markFailed(replica, e);
                lastFailure = e;
            }
        }
        throw unavailable(shard, tried, lastFailure);
    }

    private ExpertRequest routedRequest(int layer, float[] input, ExpertRouting routing, int shard, Scratch scratch) {
        int count = scratch.rowCounts[shard];
        int[] shardRows = scratch.rowsOfShard[shard];
        int k = routing.expertsPerToken();
        float[] gathered = scratch.workspace.floats(Buffer.GATHERED, count * hiddenSize);
        ExpertRequest.Builder request = ExpertRequest.newBuilder()
                .setCallId(nextCallId.getAndIncrement())
                .setLayer(layer)
                .setExpertsPerRow(k)
                .setResponseDtype(options.wireDType());
        for (int i = 0; i < count; i++) {
            int row = shardRows[i];
            System.arraycopy(input, row * hiddenSize, gathered, i * hiddenSize, hiddenSize);
            for (int slot = 0; slot < k; slot++) {
                int expert = routing.expert(row, slot);
                boolean here = expert >= 0 && layout.shardOfExpert(expert) == shard;
                request.addExpertIds(here ? expert : -1);
                request.addWeights(here ? routing.weight(row, slot) : 0f);
            }
        }
        return request.setHidden(TensorCodec.encode(gathered, count, hiddenSize, options.wireDType())).build();
    }

    /** Sends {@code request} to a replica of {@code shard} not in {@code tried}, moving to the next when sending fails. */
    private Call send(int shard, ExpertRequest request, Set<Replica> tried) {
        EndpointGroup group = shards.get(shard);
        Throwable lastFailure = null;
        for (Replica replica = group.choose(tried); replica != null; replica = group.choose(tried)) {
            tried.add(replica);
            try {
                ExpertStream stream = replica.attachment(this, this::openStreams).current();
                return new Call(shard, request, replica, stream, stream.send(request), tried,
                        System.nanoTime() + options.requestTimeout().toNanos());
            } catch (RuntimeException e) {
                group.markFailed(replica, e);
                lastFailure = e;
            }
        }
        throw unavailable(shard, tried, lastFailure);
    }

    /**
     * Waits for {@code call}'s response and decodes its {@code rows} rows into {@code out}; on a
     * replica failure or timeout, sends the request to the next replica of the shard and waits again.
     */
    private void await(Call call, int rows, float[] out) {
        while (true) {
            EndpointGroup group = shards.get(call.shard);
            Throwable failure;
            try {
                long remaining = call.deadlineNanos - System.nanoTime();
                ExpertResponse response = call.response.get(Math.max(remaining, 0), TimeUnit.NANOSECONDS);
                TensorCodec.decode(response.getOutput(), rows, hiddenSize, out);
                group.markSucceeded(call.replica);
                return;
            } catch (TimeoutException e) {
                String reason = "layer " + call.request.getLayer() + " request " + call.request.getCallId() + " to "
                        + call.replica + " timed out after " + options.requestTimeout().toMillis() + " ms";
                call.stream.cancel(reason);
                failure = Status.DEADLINE_EXCEEDED.withDescription(reason).asRuntimeException();
            } catch (ExecutionException e) {
                Status status = Status.fromThrowable(e.getCause());
                if (!isReplicaFailure(status.getCode())) {
                    throw status.augmentDescription("expert shard " + call.shard + " replica " + call.replica
                            + ", layer " + call.request.getLayer()).asRuntimeException();
                }
                failure = e.getCause();
            } catch (IllegalArgumentException e) {
                failure = e; // the response's tensor has the wrong shape or dtype: treat the replica as broken
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted while waiting for expert shard " + call.shard)
                        .withCause(e).asRuntimeException();
            }

            group.markFailed(call.replica, failure);
            log.warn("Layer {} request {} failed on replica {} of expert shard {}; trying another replica",
                    call.request.getLayer(), call.request.getCallId(), call.replica, call.shard);
            call = send(call.shard, call.request, call.tried);
        }
    }

    /** Returns whether a status means the replica failed (another replica may succeed), not that the request is wrong. */
    private static boolean isReplicaFailure(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, RESOURCE_EXHAUSTED, UNIMPLEMENTED,
                 NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED -> false;
            default -> true;
        };
    }

    private ShardUnavailableException unavailable(int shard, Set<Replica> tried, Throwable lastFailure) {
        String description = "expert shard " + shard + " has no replica left to try"
                + (tried.isEmpty() ? " (its endpoint group " + shards.get(shard).name() + " lists none)"
                : " (tried " + tried + ")")
                + (lastFailure == null ? "" : "; last failure: " + lastFailure.getMessage());
        log.error("{}", description);
        return new ShardUnavailableException(shard, description, lastFailure);
    }

    private ExpertStreams openStreams(Replica replica) {
        return new ExpertStreams(replica, options.streamLifetime().toNanos(), options.requestTimeout().toNanos());
    }

    /** Closes every stream and the endpoint groups. */
    @Override
    public void close() {
        shards.forEach(EndpointGroup::close);
    }

    /** One request in flight on one replica, with what is needed to send it elsewhere. */
    private record Call(int shard, ExpertRequest request, Replica replica, ExpertStream stream,
                        CompletableFuture<ExpertResponse> response, Set<Replica> tried, long deadlineNanos) {
    }

    /** Per-thread buffers: rows grouped by shard, gathered inputs and decoded partial sums. */
    private static final class Scratch {
        final int[] rowCounts;
        final int[][] rowsOfShard;
        final Workspace workspace = new Workspace();

        Scratch(int shardCount) {
            rowCounts = new int[shardCount];
            rowsOfShard = new int[shardCount][16];
        }

        void groupRows(ExpertRouting routing, ShardLayout layout) {
            Arrays.fill(rowCounts, 0);
            int k = routing.expertsPerToken();
            for (int row = 0; row < routing.rows(); row++) {
                for (int slot = 0; slot < k; slot++) {
                    int expert = routing.expert(row, slot);
                    if (expert < 0) {
                        continue;
                    }
                    int shard = layout.shardOfExpert(expert);
                    int count = rowCounts[shard];
                    if (count > 0 && rowsOfShard[shard][count - 1] == row) {
                        continue; // an earlier slot of this row already sent it to this shard
                    }
                    if (count == rowsOfShard[shard].length) {
                        rowsOfShard[shard] = Arrays.copyOf(rowsOfShard[shard], 2 * count);
                    }
                    rowsOfShard[shard][count] = row;
                    rowCounts[shard] = count + 1;
                }
            }
        }
    }
}
