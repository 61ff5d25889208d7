package io.sparsemesh.transport.attention;

import io.grpc.Channel;

import java.util.Objects;

/**
 * One attention service replica as the router reaches it.
 *
 * @param name    how errors and logs name the replica, e.g. its {@code host:port}
 * @param channel the channel to the replica, owned and closed by the caller; it should accept
 *                inbound messages as large as a whole prefill chunk ({@code rows × hidden × 4} bytes)
 */
public record AttentionReplica(String name, Channel channel) {

    public AttentionReplica {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(channel, "channel");
    }
}
