package io.sparsemesh.transport.discovery;

import io.grpc.ManagedChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The interchangeable replicas of one service unit (the replicas of one expert shard, or of the
 * attention service), and the choice among them. Calls go round-robin over the healthy replicas.
 * A replica that fails is marked unhealthy and sits out for {@code retryAfter}, doubled for each
 * further failure in a row; after that it is eligible again, and its next call shows whether it
 * has recovered. When no healthy replica is
 * left, {@link #choose} falls back to the unhealthy ones the caller has not tried yet, so a single
 * replica that failed once is retried rather than given up.
 *
 * <p>With a {@link TargetSource.Dns} source the group looks the name up at start and then every
 * refresh interval, on a daemon thread: new addresses join, vanished ones are retired (their
 * client streams closed gracefully, their channels shut down), and the others keep their channels.
 * Thread-safe.
 */
public final class EndpointGroup implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EndpointGroup.class);

    /** Looks up the addresses of a host name. The default is the system resolver, {@link InetAddress#getAllByName}. */
    @FunctionalInterface
    public interface HostResolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final String name;
    private final TargetSource source;
    private final long retryAfterNanos;
    private final Function<String, ManagedChannel> channelFactory;
    private final HostResolver resolver;
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final ScheduledExecutorService refresher; // null for static sources
    private volatile List<Replica> replicas = List.of();
    private volatile boolean closed;

    /**
     * @param name           group name for logs and errors, e.g. {@code expert-shard-1}
     * @param retryAfter     how long a failed replica sits out before it is eligible again
     * @param channelFactory opens a channel to a target
     * @param resolver       looks up DNS sources
     */
    public EndpointGroup(String name, TargetSource source, Duration retryAfter,
                         Function<String, ManagedChannel> channelFactory, HostResolver resolver) {
        if (retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter of endpoint group " + name + " must be >= 0, got " + retryAfter);
        }
        this.name = name;
        this.source = source;
        this.retryAfterNanos = retryAfter.toNanos();
        this.channelFactory = channelFactory;
        this.resolver = resolver;
        switch (source) {
            case TargetSource.Static fixed -> {
                replicas = fixed.targets().stream().map(target -> new Replica(target, channelFactory)).toList();
                refresher = null;
                log.info("Endpoint group {}: replicas {}", name, replicas);
            }
            case TargetSource.Dns dns -> {
                refreshQuietly();
                refresher = Executors.newSingleThreadScheduledExecutor(
                        Thread.ofPlatform().name("sparsemesh-dns-" + name).daemon().factory());
                long period = dns.refreshInterval().toNanos();
                refresher.scheduleWithFixedDelay(this::refreshQuietly, period, period, TimeUnit.NANOSECONDS);
            }
        }
    }

    /** Opens a group whose channels are plaintext (or in-process) with the default message size limit. */
    public static EndpointGroup open(String name, TargetSource source, Duration retryAfter) {
        return new EndpointGroup(name, source, retryAfter,
                target -> Channels.open(target, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES), InetAddress::getAllByName);
    }

    public String name() {
        return name;
    }

    public TargetSource source() {
        return source;
    }

    /** Returns the current replicas. */
    public List<Replica> replicas() {
        return replicas;
    }

    /**
     * Chooses the next replica round-robin among the healthy ones not in {@code tried}, or else
     * among the unhealthy ones not in {@code tried}. Returns null when every replica has been tried.
     */
    public Replica choose(Set<Replica> tried) {
        List<Replica> current = replicas;
        int count = current.size();
        if (count == 0) {
            return null;
        }
        long now = System.nanoTime();
        int start = Math.floorMod(nextIndex.getAndIncrement(), count);
        Replica fallback = null;
        for (int i = 0; i < count; i++) {
            Replica replica = current.get((start + i) % count);
            if (tried.contains(replica)) {
                continue;
            }
            if (replica.isEligible(now)) {
                return replica;
            }
            if (fallback == null) {
                fallback = replica;
            }
        }
        return fallback;
    }

    /**
     * Marks {@code replica} unhealthy after a failed call, so that it sits out for the retry delay,
     * doubled for each further failure in a row. Logs the 1st, 2nd, 4th, 8th... failure in a row.
     */
    public void markFailed(Replica replica, Throwable cause) {
        long sitOut = replica.recordFailure(retryAfterNanos);
        int failures = replica.consecutiveFailures();
        if (Integer.bitCount(failures) == 1) {
            log.warn("Replica {} of {} failed ({} failures in a row): {}; it sits out for {} ms", replica, name,
                    failures, cause.toString(), TimeUnit.NANOSECONDS.toMillis(sitOut));
        }
    }

    /** Marks {@code replica} healthy after a successful call. */
    public void markSucceeded(Replica replica) {
        if (replica.recordSuccess()) {
            log.info("Replica {} of {} succeeded again and is back in the rotation", replica, name);
        }
    }

    /**
     * Looks a DNS source up now and updates the replicas; does nothing for a static source.
     * Throws {@link UnknownHostException} when the lookup fails, leaving the replicas as they were.
     */
    public void refresh() throws UnknownHostException {
        if (!(source instanceof TargetSource.Dns dns) || closed) {
            return;
        }
        List<String> targets = resolveTargets(dns);
        List<Replica> retiring;
        synchronized (this) {
            Map<String, Replica> byTarget = new LinkedHashMap<>();
            replicas.forEach(replica -> byTarget.put(replica.target(), replica));
            List<Replica> next = new ArrayList<>();
            for (String target : targets) {
                Replica kept = byTarget.remove(target);
                next.add(kept != null ? kept : new Replica(target, channelFactory));
            }
            retiring = new ArrayList<>(byTarget.values());
            if (retiring.isEmpty() && next.size() == replicas.size()) {
                return;
            }
            replicas = List.copyOf(next);
        }
        log.info("Endpoint group {}: {} resolves to replicas {}{}", name, dns.host(), targets,
                retiring.isEmpty() ? "" : "; retiring " + retiring);
        retiring.forEach(Replica::retire);
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (UnknownHostException | RuntimeException e) {
            log.warn("Endpoint group {}: looking up {} failed; keeping replicas {}", name, source, replicas, e);
        }
    }

    /** Addresses of the DNS name as targets: its IPv4 (A) records, or every address when it has none. */
    private List<String> resolveTargets(TargetSource.Dns dns) throws UnknownHostException {
        InetAddress[] addresses = resolver.resolve(dns.host());
        List<InetAddress> chosen = new ArrayList<>();
        for (InetAddress address : addresses) {
            if (address instanceof Inet4Address) {
                chosen.add(address);
            }
        }
        if (chosen.isEmpty()) {
            chosen.addAll(List.of(addresses));
        }
        return chosen.stream()
                .map(address -> new TargetSource.HostAndPort(address.getHostAddress(), dns.port()).target())
                .distinct()
                .sorted()
                .toList();
    }

    /** Stops refreshing and retires every replica. */
    @Override
    public void close() {
        List<Replica> closing;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            closing = replicas;
            replicas = List.of();
        }
        if (refresher != null) {
            refresher.shutdownNow();
        }
        closing.forEach(Replica::retire);
        log.info("Endpoint group {} closed", name);
    }

    @Override
    public String toString() {
        return name + replicas;
    }
}
