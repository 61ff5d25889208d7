package io.sparsemesh.transport.attention;

import io.sparsemesh.protocol.v1.WireDType;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link RemoteAttention}.
 *
 * @param wireDType        element type of the hidden states sent and received; BF16 halves the
 *                         bytes, F32 reproduces the single-process engine exactly
 * @param responseTimeout  longest wait for one layer's response from a replica; a replica that
 *                         misses it has its stream reset, which ends its sequences
 * @param callTimeout      deadline of the unary calls (Describe, Release)
 * @param reconnectBackoff how long a replica whose stream failed gets no new sequences, unless
 *                         every replica of its layer range failed
 */
public record RemoteAttentionOptions(WireDType wireDType, Duration responseTimeout, Duration callTimeout,
                                     Duration reconnectBackoff) {

    public RemoteAttentionOptions {
        Objects.requireNonNull(wireDType, "wireDType");
        if (wireDType != WireDType.WIRE_DTYPE_F32 && wireDType != WireDType.WIRE_DTYPE_BF16) {
            throw new IllegalArgumentException("wire dtype must be WIRE_DTYPE_F32 or WIRE_DTYPE_BF16, got " + wireDType);
        }
        requirePositive("responseTimeout", responseTimeout);
        requirePositive("callTimeout", callTimeout);
        Objects.requireNonNull(reconnectBackoff, "reconnectBackoff");
    }

    /** BF16 on the wire, 60 s per layer response, 10 s per unary call, 1 s reconnect back-off. */
    public static RemoteAttentionOptions defaults() {
        return new RemoteAttentionOptions(WireDType.WIRE_DTYPE_BF16, Duration.ofSeconds(60), Duration.ofSeconds(10),
                Duration.ofSeconds(1));
    }

    public RemoteAttentionOptions withWireDType(WireDType dtype) {
        return new RemoteAttentionOptions(dtype, responseTimeout, callTimeout, reconnectBackoff);
    }

    public RemoteAttentionOptions withResponseTimeout(Duration timeout) {
        return new RemoteAttentionOptions(wireDType, timeout, callTimeout, reconnectBackoff);
    }

    public RemoteAttentionOptions withReconnectBackoff(Duration backoff) {
        return new RemoteAttentionOptions(wireDType, responseTimeout, callTimeout, backoff);
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
