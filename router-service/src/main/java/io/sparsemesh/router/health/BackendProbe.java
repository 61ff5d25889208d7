package io.sparsemesh.router.health;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Channel;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionInfo;
import io.sparsemesh.protocol.v1.DescribeAttentionRequest;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.DescribeTokenizerRequest;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.protocol.v1.TokenizerGrpc;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.LayerRange;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Checks whether the services behind the router respond: one Describe call per replica, all in
 * parallel, each with a deadline of {@code timeout}. A replica counts as reachable when it responds
 * and serves what the router expects of it (the same expert shard, the same layer range). A report
 * is reused for {@code timeToLive}, so frequent health requests do not each call every replica.
 *
 * <p>Before the call, a channel whose last connection attempt failed has its reconnect back-off
 * reset. A replica that came back on the same address is then reconnected at once, not after
 * grpc-java's back-off (which grows to 120 s). The call that triggers the reconnect may still fail,
 * so a returning replica shows up as reachable one check later.
 *
 * <p>Thread-safe: concurrent callers of {@link #report()} wait for the same check.
 */
public final class BackendProbe {

    private static final Logger log = LoggerFactory.getLogger(BackendProbe.class);

    /** Extra wait beyond the gRPC deadline, in case a call's deadline timer fires late. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String tokenizerTarget;   // null when the router encodes prompts itself
    private final Channel tokenizerChannel; // null when the router encodes prompts itself
    private final Map<AttentionReplica, LayerRange> attention;
    private final List<EndpointGroup> expertShards;
    private final Duration timeout;
    private final long timeToLiveNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private BackendReport last;    // guarded by lock
    private long lastCheckedNanos; // guarded by lock

    /**
     * @param tokenizerTarget  the tokenizer service's target, or null when the router encodes prompts itself
     * @param tokenizerChannel the channel to the tokenizer service, or null with {@code tokenizerTarget}
     * @param attention        remote attention replicas and the layer range each one serves; empty when
     *                         attention runs in the router
     * @param expertShards     the endpoint group of each expert shard, in shard order; empty when the experts
     *                         run in the router
     * @param timeout          deadline of each Describe call
     * @param timeToLive       how long a report is reused before the next health request checks again
     */
    public BackendProbe(String tokenizerTarget, Channel tokenizerChannel, Map<AttentionReplica, LayerRange> attention,
                        List<EndpointGroup> expertShards, Duration timeout, Duration timeToLive) {
        if ((tokenizerTarget == null) != (tokenizerChannel == null)) {
            throw new IllegalArgumentException("give both the tokenizer target and its channel, or neither; got target "
                    + tokenizerTarget + " and channel " + tokenizerChannel);
        }
        this.tokenizerTarget = tokenizerTarget;
        this.tokenizerChannel = tokenizerChannel;
        this.attention = Collections.unmodifiableMap(new LinkedHashMap<>(attention));
        this.expertShards = List.copyOf(expertShards);
        this.timeout = timeout;
        this.timeToLiveNanos = timeToLive.toNanos();
    }

    /** Returns the last report when it is younger than the time to live, and otherwise checks every replica now. */
    public BackendReport report() {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (last == null || now - lastCheckedNanos >= timeToLiveNanos) {
                BackendReport previous = last;
                last = check();
                lastCheckedNanos = now;
                logChanges(previous, last);
            }
            return last;
        } finally {
            lock.unlock();
        }
    }

    /** Calls Describe on every replica at once, then waits for all responses. */
    private BackendReport check() {
        Instant checkedAt = Instant.now();
        List<PendingUnit> tokenizer = tokenizerTarget == null ? List.of() : List.of(tokenizerUnit());
        List<PendingUnit> attentionUnits = attentionUnits();
        List<PendingUnit> shardUnits = new ArrayList<>();
        for (int shard = 0; shard < expertShards.size(); shard++) {
            shardUnits.add(shardUnit(shard));
        }

        long deadline = System.nanoTime() + timeout.toNanos() + GRACE_NANOS;
        return new BackendReport(await(tokenizer, deadline), await(attentionUnits, deadline), await(shardUnits, deadline),
                checkedAt);
    }

    private PendingUnit tokenizerUnit() {
        PendingCall<?> call = call(tokenizerTarget, () -> tokenizerChannel,
                channel -> TokenizerGrpc.newFutureStub(channel).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                        .describe(DescribeTokenizerRequest.getDefaultInstance()),
                info -> null);
        return new PendingUnit("tokenizer", List.of(call));
    }

    /** Groups the attention replicas by layer range, in layer order, and calls each one. */
    private List<PendingUnit> attentionUnits() {
        Map<LayerRange, List<AttentionReplica>> byRange = new TreeMap<>(Comparator.comparingInt(LayerRange::first));
        attention.forEach((replica, range) -> byRange.computeIfAbsent(range, r -> new ArrayList<>()).add(replica));
        List<PendingUnit> units = new ArrayList<>();
        byRange.forEach((range, replicas) -> {
            List<PendingCall<?>> calls = new ArrayList<>();
            for (AttentionReplica replica : replicas) {
                calls.add(call(replica.name(), replica::channel,
                        channel -> AttentionGrpc.newFutureStub(channel).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                                .describe(DescribeAttentionRequest.getDefaultInstance()),
                        info -> rangeMismatch(info, range)));
            }
            units.add(new PendingUnit("attention layers " + range, calls));
        });
        return units;
    }

    private PendingUnit shardUnit(int shard) {
        EndpointGroup group = expertShards.get(shard);
        List<PendingCall<?>> calls = new ArrayList<>();
        for (Replica replica : group.replicas()) {
            calls.add(call(replica.target(), replica::channel,
                    channel -> ExpertsGrpc.newFutureStub(channel).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                            .describe(DescribeExpertsRequest.getDefaultInstance()),
                    info -> shardMismatch(info, shard)));
        }
        return new PendingUnit(group.name(), calls);
    }

    private static String rangeMismatch(AttentionInfo info, LayerRange range) {
        if (info.getFirstLayer() == range.first() && info.getEndLayer() == range.end()) {
            return null;
        }
        return "serves layers [" + info.getFirstLayer() + ", " + info.getEndLayer() + ") but served " + range
                + " when the router started; restart the router to use the new layout";
    }

    private String shardMismatch(ExpertShardInfo info, int shard) {
        if (info.getShard() == shard && info.getShardCount() == expertShards.size()) {
            return null;
        }
        return "serves expert shard " + info.getShard() + " of " + info.getShardCount() + ", but the router lists it"
                + " under shard " + shard + " of " + expertShards.size() + "; check sparsemesh.router.mesh.expert-shards";
    }

    /**
     * Starts one Describe call. A channel that cannot be had (a replica that has just left its
     * group) gives a failed call rather than an exception.
     */
    private static <T> PendingCall<T> call(String target, Supplier<Channel> channel,
                                           Function<Channel, ListenableFuture<T>> describe, Function<T, String> mismatch) {
        ListenableFuture<T> response;
        try {
            response = describe.apply(reconnectNow(channel.get()));
        } catch (RuntimeException e) {
            response = Futures.immediateFailedFuture(e);
        }
        return new PendingCall<>(target, response, mismatch);
    }

    /** Resets the reconnect back-off of a channel whose last connection attempt failed. */
    private static Channel reconnectNow(Channel channel) {
        if (channel instanceof ManagedChannel managed && managed.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            managed.resetConnectBackoff();
        }
        return channel;
    }

    private static List<BackendReport.Unit> await(List<PendingUnit> units, long deadlineNanos) {
        List<BackendReport.Unit> checked = new ArrayList<>();
        for (PendingUnit unit : units) {
            List<BackendReport.Replica> replicas = new ArrayList<>();
            for (PendingCall<?> call : unit.calls()) {
                replicas.add(call.await(deadlineNanos));
            }
            checked.add(new BackendReport.Unit(unit.name(), replicas));
        }
        return checked;
    }

    /** Logs each unit that became unavailable or available again; the first report logs only the unavailable ones. */
    private static void logChanges(BackendReport previous, BackendReport current) {
        Map<String, Boolean> wasAvailable = new HashMap<>();
        if (previous != null) {
            previous.units().forEach(unit -> wasAvailable.put(unit.name(), unit.available()));
        }
        for (BackendReport.Unit unit : current.units()) {
            Boolean was = wasAvailable.get(unit.name());
            if (!unit.available() && !Boolean.FALSE.equals(was)) {
                log.warn("{} is unavailable because no replica returned the expected Describe response: {}. The router's"
                        + " readiness is DOWN until one does", unit.name(), unit.failures());
            } else if (unit.available() && Boolean.FALSE.equals(was)) {
                log.info("{} is available again", unit.name());
            }
        }
    }

    private record PendingUnit(String name, List<PendingCall<?>> calls) {
    }

    /** One Describe call in flight, and the check of its response. */
    private record PendingCall<T>(String target, ListenableFuture<T> response, Function<T, String> mismatch) {

        BackendReport.Replica await(long deadlineNanos) {
            try {
                T info = response.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                return new BackendReport.Replica(target, mismatch.apply(info));
            } catch (ExecutionException e) {
                return new BackendReport.Replica(target, failure(e.getCause()));
            } catch (TimeoutException e) {
                response.cancel(true);
                return new BackendReport.Replica(target, "Describe did not finish within its deadline");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                response.cancel(true);
                return new BackendReport.Replica(target, "the health check was interrupted");
            }
        }

        /** Formats a failed call as its status code, description and cause, e.g. {@code UNAVAILABLE: io exception (Connection refused)}. */
        private static String failure(Throwable error) {
            Status status = Status.fromThrowable(error);
            StringBuilder text = new StringBuilder(status.getCode().toString());
            if (status.getDescription() != null) {
                text.append(": ").append(status.getDescription());
            }
            if (status.getCause() != null) {
                text.append(" (").append(status.getCause().getMessage()).append(')');
            }
            return text.toString();
        }
    }
}
