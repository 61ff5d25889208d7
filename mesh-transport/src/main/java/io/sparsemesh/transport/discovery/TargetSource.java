package io.sparsemesh.transport.discovery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The source of one {@link EndpointGroup}'s replicas: a fixed list of targets, or a DNS
 * name whose address records are the replicas (a Kubernetes headless service), looked up again
 * every {@code refreshInterval}.
 *
 * <p>A target is {@code host:port} ({@code [v6-address]:port} for IPv6), or
 * {@code in-process:<name>} for a server in the same JVM.
 */
public sealed interface TargetSource {

    /** Prefix of in-process targets, followed by the in-process server's name. */
    String IN_PROCESS_PREFIX = "in-process:";

    /** Prefix of a DNS source, in gRPC's target-URI form: {@code dns:///experts-0.sparsemesh:9084}. */
    String DNS_PREFIX = "dns:///";

    /** Fixed targets, used in the order given. */
    record Static(List<String> targets) implements TargetSource {

        public Static {
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("a static endpoint group needs at least one target");
            }
            targets = List.copyOf(targets);
            targets.forEach(TargetSource::checkTarget);
        }
    }

    /** Every address record of {@code host}, each as a replica on {@code port}, refreshed periodically. */
    record Dns(String host, int port, Duration refreshInterval) implements TargetSource {

        public Dns {
            if (host.isBlank()) {
                throw new IllegalArgumentException("a DNS endpoint group needs a host name");
            }
            checkPort(port, host + ":" + port);
            if (refreshInterval.isNegative() || refreshInterval.isZero()) {
                throw new IllegalArgumentException("the DNS refresh interval must be positive, got " + refreshInterval);
            }
        }
    }

    /**
     * Parses {@code spec}: {@code dns:///host:port} for a DNS source, otherwise a comma-separated
     * list of targets.
     *
     * @param refreshInterval how often a DNS source is looked up again; unused for static lists
     */
    public static TargetSource parse(String spec, Duration refreshInterval) {
        String trimmed = spec.strip();
        if (trimmed.startsWith(DNS_PREFIX)) {
            HostAndPort address = HostAndPort.parse(trimmed.substring(DNS_PREFIX.length()));
            return new Dns(address.host(), address.port(), refreshInterval);
        }
        List<String> targets = new ArrayList<>();
        for (String part : trimmed.split(",")) {
            if (!part.isBlank()) {
                targets.add(part.strip());
            }
        }
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("endpoint spec '" + spec + "' names no target; expected host:port[,host:port...],"
                    + " in-process:<name> or dns:///host:port");
        }
        return new Static(targets);
    }

    private static void checkTarget(String target) {
        if (target.startsWith(IN_PROCESS_PREFIX)) {
            if (target.length() == IN_PROCESS_PREFIX.length()) {
                throw new IllegalArgumentException("in-process target '" + target + "' has no server name");
            }
            return;
        }
        HostAndPort.parse(target);
    }

    private static void checkPort(int port, String target) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " of target '" + target + "' is outside [1, 65535]");
        }
    }

    /** A network target split into host and port. */
    record HostAndPort(String host, int port) {

        /** Parses {@code host:port} or {@code [v6-address]:port}. */
        static HostAndPort parse(String target) {
            int colon = target.lastIndexOf(':');
            if (colon <= 0 || colon == target.length() - 1) {
                throw new IllegalArgumentException("target '" + target + "' is not host:port or in-process:<name>");
            }
            String host = target.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(target.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("target '" + target + "' has an invalid port; expected host:port", e);
            }
            checkPort(port, target);
            return new HostAndPort(host, port);
        }

        /** Formats as a target, bracketing IPv6 addresses. */
        String target() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }
}
