package io.sparsemesh.transport.tokenizer;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client without a server; the calls against a running service are tested with it in
 * tokenizer-service, which depends on this module.
 */
class RemoteTokenizerTest {

    private final ManagedChannel channel = InProcessChannelBuilder.forName("no-tokenizer-service-here").build();

    @AfterEach
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void timeoutsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RemoteTokenizer(channel, Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new RemoteTokenizer(channel, Duration.ofSeconds(1), Duration.ofSeconds(-1)));
    }

    @Test
    void missingServerIsUnavailable() {
        RemoteTokenizer remote = new RemoteTokenizer(channel, Duration.ofSeconds(5), Duration.ofSeconds(5));
        RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> remote.encode("text", true));
        assertEquals(Status.Code.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().startsWith("tokenizer service call Encode failed with UNAVAILABLE"), e.getMessage());
    }

    @Test
    void missingServerFailsDecodeSession() {
        RemoteTokenizer remote = new RemoteTokenizer(channel, Duration.ofSeconds(5), Duration.ofSeconds(5));
        try (DecodeSession session = remote.openDecodeSession()) {
            RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> session.push(1, 2));
            assertEquals(Status.Code.UNAVAILABLE, e.code());
            assertThrows(IllegalStateException.class, session::finish);
        }
    }
}
