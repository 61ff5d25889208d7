package io.sparsemesh.attention;

import io.grpc.Status;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.attention.LayerCache;
import io.sparsemesh.core.attention.SequenceCaches;
import io.sparsemesh.transport.attention.LayerRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The caches of every sequence an attention service holds, shared by all its Forward streams.
 *
 * <p>A sequence opens at its first step and belongs to the stream that opened it. Its caches are
 * freed by Release, when that stream ends (completed, cancelled or failed), or after
 * {@link AttentionLimits#idleTimeout()} without a step. Another stream may not use it while it
 * is held, which turns a clash of sequence ids between routers into an error.
 *
 * <p>A sequence's length is one past the last position of its latest step. A step may start at
 * any position up to that length: one at the length appends, an earlier one rewrites the cache
 * from there (a router re-runs a step this way after a failure elsewhere) and drops what lay
 * beyond. Admission is all or nothing: a step that breaks a rule or a limit changes nothing.
 *
 * <p>Thread-safe: every method locks the registry, and none of them runs a layer.
 */
public final class SequenceCacheRegistry {

    private static final Logger log = LoggerFactory.getLogger(SequenceCacheRegistry.class);

    /** Reason for freeing a sequence's caches. */
    public enum FreeReason { RELEASED, STREAM_ENDED, IDLE }

    private static final class CachedSequence {
        final SequenceCaches caches;
        final long owner;
        int length;
        long lastUsedNanos;

        CachedSequence(SequenceCaches caches, long owner) {
            this.caches = caches;
            this.owner = owner;
        }
    }

    /** First and last position of one sequence's rows in a step. */
    private static final class Span {
        final int first;
        int last;

        Span(int first) {
            this.first = first;
            this.last = first;
        }
    }

    private final AttentionLayer[] layers;
    private final LayerRange range;
    private final AttentionLimits limits;
    // guarded by this
    private final Map<Long, CachedSequence> sequences = new HashMap<>();
    private long cachedTokens;
    private long freedIndexerRuns;
    private long freedIndexerReuses;
    private final Map<FreeReason, Long> freed = new EnumMap<>(FreeReason.class);

    public SequenceCacheRegistry(AttentionModel model, AttentionLimits limits) {
        this.layers = model.layers();
        this.range = model.range();
        this.limits = limits;
        for (FreeReason reason : FreeReason.values()) {
            freed.put(reason, 0L);
        }
    }

    public AttentionLimits limits() {
        return limits;
    }

    /**
     * Admits the rows of a step that {@code owner} (a stream) starts: checks the positions against
     * each sequence's cache and the limits, opens new sequences and records the new lengths.
     *
     * @return each row's caches; rows of one sequence share one object
     * @throws RequestRejectedException naming the sequences at fault, with nothing changed
     */
    public synchronized SequenceCaches[] admit(long owner, long[] sequenceIds, int[] positions, int rows, long nowNanos) {
        Map<Long, Span> spans = spans(sequenceIds, positions, rows);
        checkHeld(owner, spans);
        checkContinuity(spans);
        checkLimits(spans);

        for (Map.Entry<Long, Span> entry : spans.entrySet()) {
            CachedSequence sequence = sequences.get(entry.getKey());
            if (sequence == null) {
                sequence = new CachedSequence(open(entry.getKey()), owner);
                sequences.put(entry.getKey(), sequence);
            }
            int length = entry.getValue().last + 1;
            cachedTokens += length - sequence.length;
            sequence.length = length;
            sequence.lastUsedNanos = nowNanos;
        }
        SequenceCaches[] caches = new SequenceCaches[rows];
        for (int row = 0; row < rows; row++) {
            caches[row] = sequences.get(sequenceIds[row]).caches;
        }
        return caches;
    }

    /** Groups the rows by sequence, checking that each sequence's positions count up by one from a valid start. */
    private Map<Long, Span> spans(long[] sequenceIds, int[] positions, int rows) {
        Map<Long, Span> spans = new LinkedHashMap<>();
        List<Long> pastContext = new ArrayList<>();
        for (int row = 0; row < rows; row++) {
            long id = sequenceIds[row];
            int position = positions[row];
            if (position < 0) {
                throw new RequestRejectedException(Status.Code.INVALID_ARGUMENT, "row " + row + " (sequence " + id
                        + ") has position " + position + "; positions start at 0", new long[] {id});
            }
            Span span = spans.get(id);
            if (span == null) {
                spans.put(id, new Span(position));
            } else if (position != span.last + 1) {
                throw new RequestRejectedException(Status.Code.INVALID_ARGUMENT, "rows of sequence " + id
                        + " must have consecutive increasing positions in row order, but row " + row + " has position "
                        + position + " after position " + span.last + "; send one row per position, in order",
                        new long[] {id});
            } else {
                span.last = position;
            }
            if (position >= limits.contextLength() && !pastContext.contains(id)) {
                pastContext.add(id);
            }
        }
        if (!pastContext.isEmpty()) {
            throw new RequestRejectedException(Status.Code.OUT_OF_RANGE, "sequences " + pastContext
                    + " reach a position past the context length of " + limits.contextLength() + " tokens of this"
                    + " attention service (positions 0.." + (limits.contextLength() - 1) + "); end them, or raise"
                    + " the context length", ids(pastContext));
        }
        return spans;
    }

    private void checkHeld(long owner, Map<Long, Span> spans) {
        List<Long> heldElsewhere = new ArrayList<>();
        for (Long id : spans.keySet()) {
            CachedSequence sequence = sequences.get(id);
            if (sequence != null && sequence.owner != owner) {
                heldElsewhere.add(id);
            }
        }
        if (!heldElsewhere.isEmpty()) {
            throw new RequestRejectedException(Status.Code.FAILED_PRECONDITION, "sequences " + heldElsewhere + " are held by"
                    + " another Forward stream of this attention service; a sequence stays on the stream that opened"
                    + " it, and sequence ids must be unique across routers", ids(heldElsewhere));
        }
    }

    private void checkContinuity(Map<Long, Span> spans) {
        List<Long> ahead = new ArrayList<>();
        StringBuilder details = new StringBuilder();
        for (Map.Entry<Long, Span> entry : spans.entrySet()) {
            CachedSequence sequence = sequences.get(entry.getKey());
            int length = sequence == null ? 0 : sequence.length;
            if (entry.getValue().first > length) {
                ahead.add(entry.getKey());
                details.append(details.isEmpty() ? "" : "; ").append("sequence ").append(entry.getKey()).append(" has ")
                        .append(length).append(" cached tokens but its rows start at position ")
                        .append(entry.getValue().first);
            }
        }
        if (!ahead.isEmpty()) {
            throw new RequestRejectedException(Status.Code.INVALID_ARGUMENT, details + "; a step must start at a"
                    + " position no later than the cached length, so send the missing positions first (from 0 when"
                    + " the sequence was released, evicted after " + limits.idleTimeout()
                    + " idle, or its stream ended)", ids(ahead));
        }
    }

    private void checkLimits(Map<Long, Span> spans) {
        List<Long> opening = new ArrayList<>();
        for (Long id : spans.keySet()) {
            if (!sequences.containsKey(id)) {
                opening.add(id);
            }
        }
        int free = limits.maxSequences() - sequences.size();
        if (opening.size() > free) {
            List<Long> rejected = opening.subList(Math.max(free, 0), opening.size());
            throw new RequestRejectedException(Status.Code.RESOURCE_EXHAUSTED, "this attention service caches "
                    + sequences.size() + " sequences, its max-sequences limit is " + limits.maxSequences()
                    + ", so sequences " + rejected + " cannot open here; release finished sequences, retry later or"
                    + " use another replica", ids(rejected));
        }

        // shrinking sequences give back their tokens first; growing ones take them in row order
        long total = cachedTokens;
        for (Map.Entry<Long, Span> entry : spans.entrySet()) {
            long growth = growth(entry);
            if (growth < 0) {
                total += growth;
            }
        }
        List<Long> rejected = new ArrayList<>();
        for (Map.Entry<Long, Span> entry : spans.entrySet()) {
            long growth = growth(entry);
            if (growth <= 0) {
                continue;
            }
            if (total + growth > limits.maxCachedTokens()) {
                rejected.add(entry.getKey());
            } else {
                total += growth;
            }
        }
        if (!rejected.isEmpty()) {
            throw new RequestRejectedException(Status.Code.RESOURCE_EXHAUSTED, "this attention service caches "
                    + cachedTokens + " tokens, its max-cached-tokens limit is " + limits.maxCachedTokens()
                    + ", so sequences " + rejected + " cannot grow here; release finished sequences, retry later or"
                    + " use another replica", ids(rejected));
        }
    }

    private long growth(Map.Entry<Long, Span> entry) {
        CachedSequence sequence = sequences.get(entry.getKey());
        return entry.getValue().last + 1L - (sequence == null ? 0 : sequence.length);
    }

    private SequenceCaches open(long sequenceId) {
        LayerCache[] caches = new LayerCache[layers.length];
        for (int i = 0; i < layers.length; i++) {
            caches[i] = layers[i].newCache(limits.contextLength());
        }
        return new SequenceCaches(sequenceId, range.first(), caches);
    }

    /** Frees the caches of {@code sequenceIds}; unknown ids are ignored. Returns how many were freed. */
    public synchronized int release(long[] sequenceIds) {
        int released = 0;
        for (long id : sequenceIds) {
            CachedSequence sequence = sequences.remove(id);
            if (sequence != null) {
                forget(sequence, FreeReason.RELEASED);
                released++;
            }
        }
        return released;
    }

    /** Frees every sequence that stream {@code owner} opened; returns how many. */
    public synchronized int releaseOwnedBy(long owner) {
        return removeIf((id, sequence) -> sequence.owner == owner, FreeReason.STREAM_ENDED);
    }

    /** Frees every sequence whose last step started more than the idle timeout before {@code nowNanos}; returns how many. */
    public synchronized int evictIdle(long nowNanos) {
        long timeout = limits.idleTimeout().toNanos();
        int evicted = removeIf((id, sequence) -> nowNanos - sequence.lastUsedNanos > timeout, FreeReason.IDLE);
        if (evicted > 0) {
            log.info("Freed {} sequences idle for more than {}", evicted, limits.idleTimeout());
        }
        return evicted;
    }

    private interface Match {
        boolean test(long id, CachedSequence sequence);
    }

    private int removeIf(Match match, FreeReason reason) {
        int removed = 0;
        for (Iterator<Map.Entry<Long, CachedSequence>> it = sequences.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, CachedSequence> entry = it.next();
            if (match.test(entry.getKey(), entry.getValue())) {
                it.remove();
                forget(entry.getValue(), reason);
                removed++;
            }
        }
        return removed;
    }

    private void forget(CachedSequence sequence, FreeReason reason) {
        cachedTokens -= sequence.length;
        freedIndexerRuns += sequence.caches.indexerRuns();
        freedIndexerReuses += sequence.caches.indexerReuses();
        freed.merge(reason, 1L, Long::sum);
    }

    public synchronized int cachedSequences() {
        return sequences.size();
    }

    public synchronized long cachedTokens() {
        return cachedTokens;
    }

    /** Heap bytes of every cache held, which grow ahead of the cached tokens. */
    public synchronized long cacheBytes() {
        long bytes = 0;
        for (CachedSequence sequence : sequences.values()) {
            bytes += sequence.caches.byteSize();
        }
        return bytes;
    }

    /** Indexer runs (a FULL layer scored a row's earlier positions) of all sequences, freed ones included. */
    public synchronized long indexerRuns() {
        long runs = freedIndexerRuns;
        for (CachedSequence sequence : sequences.values()) {
            runs += sequence.caches.indexerRuns();
        }
        return runs;
    }

    /** Indexer reuses (a SHARED layer took an earlier FULL layer's top-k for a row) of all sequences, freed ones included. */
    public synchronized long indexerReuses() {
        long reuses = freedIndexerReuses;
        for (CachedSequence sequence : sequences.values()) {
            reuses += sequence.caches.indexerReuses();
        }
        return reuses;
    }

    /** Sequences freed so far for {@code reason}. */
    public synchronized long freed(FreeReason reason) {
        return freed.get(reason);
    }

    /** Returns the cached length of {@code sequenceId}, or -1 when it has no caches here. */
    public synchronized int length(long sequenceId) {
        CachedSequence sequence = sequences.get(sequenceId);
        return sequence == null ? -1 : sequence.length;
    }

    private static long[] ids(List<Long> ids) {
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public synchronized String toString() {
        return "SequenceCacheRegistry[" + sequences.size() + " sequences, " + cachedTokens + " tokens, layers " + range
                + "]";
    }
}
