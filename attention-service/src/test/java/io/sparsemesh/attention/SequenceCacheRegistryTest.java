package io.sparsemesh.attention;

import io.grpc.Status;
import io.sparsemesh.core.attention.SequenceCaches;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admission, accounting and freeing of sequence caches, without gRPC. */
class SequenceCacheRegistryTest {

    private static final Duration IDLE = Duration.ofMinutes(10);
    private static AttentionModel model;

    @BeforeAll
    static void load() {
        model = AttentionModel.open(TestModels.stories(), 0, null);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static SequenceCacheRegistry registry(int maxSequences, long maxTokens) {
        return new SequenceCacheRegistry(model, new AttentionLimits(maxSequences, maxTokens, IDLE, 64));
    }

    @Test
    void rowsShareSequenceCaches() {
        SequenceCacheRegistry registry = registry(4, 100);
        SequenceCaches[] caches = registry.admit(1, new long[] {7, 8, 7}, new int[] {0, 0, 1}, 3, 0);
        assertSame(caches[0], caches[2]);
        assertEquals(7, caches[0].sequenceId());
        assertEquals(8, caches[1].sequenceId());
        assertEquals(2, registry.length(7));
        assertEquals(1, registry.length(8));
        assertEquals(3, registry.cachedTokens());
    }

    @Test
    void earlierStartDropsTail() {
        SequenceCacheRegistry registry = registry(4, 100);
        registry.admit(1, new long[] {1, 1, 1, 1, 1}, new int[] {0, 1, 2, 3, 4}, 5, 0);
        registry.admit(1, new long[] {1, 1}, new int[] {2, 3}, 2, 0);
        assertEquals(4, registry.length(1));
        assertEquals(4, registry.cachedTokens());
        registry.admit(1, new long[] {1}, new int[] {4}, 1, 0);
        assertEquals(5, registry.cachedTokens());
    }

    @Test
    void rejectedStepChangesNothing() {
        SequenceCacheRegistry registry = registry(2, 100);
        registry.admit(1, new long[] {1}, new int[] {0}, 1, 0);
        RequestRejectedException rejected = assertThrows(RequestRejectedException.class,
                () -> registry.admit(1, new long[] {1, 2, 3}, new int[] {1, 0, 0}, 3, 0));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, rejected.code());
        assertArrayEquals(new long[] {3}, rejected.sequenceIds());
        assertEquals(1, registry.cachedSequences());
        assertEquals(1, registry.length(1));
        assertEquals(1, registry.cachedTokens());
    }

    @Test
    void shrinkingMakesRoomForGrowth() {
        SequenceCacheRegistry registry = registry(4, 6);
        registry.admit(1, new long[] {1, 1, 1, 1}, new int[] {0, 1, 2, 3}, 4, 0);
        registry.admit(1, new long[] {2, 2}, new int[] {0, 1}, 2, 0);
        // sequence 2 grows by one while sequence 1 rewinds to position 1: 6 - 2 + 1 tokens
        registry.admit(1, new long[] {2, 1}, new int[] {2, 1}, 2, 0);
        assertEquals(5, registry.cachedTokens());
    }

    @Test
    void idleSequencesAreEvicted() {
        SequenceCacheRegistry registry = registry(4, 100);
        long start = 1_000;
        registry.admit(1, new long[] {1, 1}, new int[] {0, 1}, 2, start);
        registry.admit(1, new long[] {2}, new int[] {0}, 1, start + IDLE.toNanos() / 2);

        assertEquals(0, registry.evictIdle(start + IDLE.toNanos()));
        assertEquals(1, registry.evictIdle(start + IDLE.toNanos() + 1));
        assertEquals(-1, registry.length(1));
        assertEquals(1, registry.length(2));
        assertEquals(1, registry.cachedTokens());
        assertEquals(1, registry.freed(SequenceCacheRegistry.FreeReason.IDLE));
    }

    @Test
    void streamEndFreesOwnSequences() {
        SequenceCacheRegistry registry = registry(8, 100);
        registry.admit(1, new long[] {1, 2}, new int[] {0, 0}, 2, 0);
        registry.admit(2, new long[] {3}, new int[] {0}, 1, 0);

        assertEquals(2, registry.releaseOwnedBy(1));
        assertEquals(1, registry.cachedSequences());
        assertEquals(1, registry.length(3));
        assertEquals(2, registry.freed(SequenceCacheRegistry.FreeReason.STREAM_ENDED));
    }

    @Test
    void releaseIgnoresUnknownIds() {
        SequenceCacheRegistry registry = registry(8, 100);
        registry.admit(1, new long[] {1, 2}, new int[] {0, 0}, 2, 0);
        assertEquals(1, registry.release(new long[] {2, 99}));
        assertEquals(1, registry.cachedSequences());
        assertEquals(0, registry.release(new long[] {99}));
        assertTrue(registry.cacheBytes() > 0);
        assertEquals(1, registry.release(new long[] {1}));
        assertEquals(0, registry.cacheBytes());
    }
}
