package io.sparsemesh.transport.discovery;

import io.grpc.ManagedChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One replica of an {@link EndpointGroup}: its target, a channel opened on first use, its health,
 * and the per-replica state of clients (their long-lived streams), which is closed with the replica.
 */
public final class Replica {

    private static final Logger log = LoggerFactory.getLogger(Replica.class);

    private final String target;
    private final Function<String, ManagedChannel> channelFactory;
    private final Map<Object, AutoCloseable> attachments = new LinkedHashMap<>(); // guarded by this
    private ManagedChannel channel;  // guarded by this; null until first use
    private boolean retired;         // guarded by this
    /** Doublings of the retry delay at most: 2 s grows to about 1 minute. */
    static final int MAX_SIT_OUT_DOUBLINGS = 5;

    private volatile int consecutiveFailures;
    private volatile long sittingOutUntilNanos;

    Replica(String target, Function<String, ManagedChannel> channelFactory) {
        this.target = target;
        this.channelFactory = channelFactory;
    }

    public String target() {
        return target;
    }

    /** Returns the channel to this replica, opening it on first use. */
    public synchronized ManagedChannel channel() {
        checkNotRetired();
        if (channel == null) {
            channel = channelFactory.apply(target);
        }
        return channel;
    }

    /**
     * Returns the client state stored under {@code key}, creating it with {@code factory} on first
     * use. It is closed when the replica leaves its group or the group closes.
     */
    public synchronized <T extends AutoCloseable> T attachment(Object key, Function<Replica, T> factory) {
        checkNotRetired();
        @SuppressWarnings("unchecked")
        T existing = (T) attachments.get(key);
        if (existing != null) {
            return existing;
        }
        T created = factory.apply(this);
        attachments.put(key, created);
        return created;
    }

    /** Returns the failures since the last success, 0 for a healthy replica. */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Returns whether the replica has no recent failure, or its sit-out time after one has passed. */
    boolean isEligible(long nowNanos) {
        return consecutiveFailures == 0 || nowNanos - sittingOutUntilNanos >= 0;
    }

    /**
     * Counts a failure and starts the replica's sit-out: {@code retryAfterNanos} after the first
     * failure in a row, doubling with each further one up to {@value #MAX_SIT_OUT_DOUBLINGS}
     * doublings, so a replica that stays down is tried rarely. Returns the sit-out in nanoseconds.
     */
    long recordFailure(long retryAfterNanos) {
        int failures = ++consecutiveFailures;
        long sitOut = retryAfterNanos << Math.min(failures - 1, MAX_SIT_OUT_DOUBLINGS);
        sittingOutUntilNanos = System.nanoTime() + sitOut;
        return sitOut;
    }

    /** Clears the failure count; returns whether the replica had failed before. */
    boolean recordSuccess() {
        boolean recovered = consecutiveFailures > 0;
        consecutiveFailures = 0;
        return recovered;
    }

    /** Closes the clients' state (ending their streams gracefully), then shuts the channel down. */
    void retire() {
        List<AutoCloseable> closing;
        ManagedChannel closingChannel;
        synchronized (this) {
            if (retired) {
                return;
            }
            retired = true;
            closing = new ArrayList<>(attachments.values());
            attachments.clear();
            closingChannel = channel;
        }
        for (AutoCloseable attachment : closing) {
            try {
                attachment.close();
            } catch (Exception e) {
                log.warn("Closing client state {} of replica {} failed; going on with the shutdown", attachment, target, e);
            }
        }
        if (closingChannel != null) {
            closingChannel.shutdown();
        }
    }

    private void checkNotRetired() {
        if (retired) {
            throw new IllegalStateException("replica " + target + " has left its endpoint group; choose another replica");
        }
    }

    @Override
    public String toString() {
        return target;
    }
}
