package io.sparsemesh.transport.discovery;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * Opens gRPC channels to targets: plaintext HTTP/2 over grpc-netty-shaded for {@code host:port},
 * or the in-process transport for {@code in-process:<name>}. Channels are plaintext because the
 * mesh's internal ports listen on loopback or on a private cluster network. Where they do not, put
 * TLS or a service mesh in front.
 *
 * <p>Channels run response callbacks on the transport thread that reads them (a direct executor),
 * which saves a thread wake-up per message. Every observer of these channels must therefore return
 * quickly and never block.
 */
public final class Channels {

    /** Default largest inbound message: a batch of 512 rows of hidden size 7168 in F32 is 14 MiB. */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

    private Channels() {
    }

    /** Opens a channel to {@code target}, accepting messages of up to {@code maxInboundMessageBytes}. */
    public static ManagedChannel open(String target, int maxInboundMessageBytes) {
        if (target.startsWith(TargetSource.IN_PROCESS_PREFIX)) {
            return InProcessChannelBuilder.forName(target.substring(TargetSource.IN_PROCESS_PREFIX.length()))
                    .maxInboundMessageSize(maxInboundMessageBytes)
                    .directExecutor()
                    .build();
        }
        TargetSource.HostAndPort address = TargetSource.HostAndPort.parse(target);
        return NettyChannelBuilder.forAddress(address.host(), address.port())
                .usePlaintext()
                .maxInboundMessageSize(maxInboundMessageBytes)
                .directExecutor()
                .build();
    }
}
