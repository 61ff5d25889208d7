package io.sparsemesh.core.engine;

import io.sparsemesh.core.tensor.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

/**
 * Ping-pong of two micro-batches: a step's sequences are split into two micro-batches of about
 * equal rows, and each runs through every layer on its own thread. vLLM's dual batch overlap
 * (docs.vllm.ai, design/dbo) splits a batch over two threads in the same way. When attention and
 * experts are services, a micro-batch spends most of a layer waiting for a hop. So while one
 * micro-batch waits for its attention replica, the other can wait for its expert shards, and each
 * service works on one micro-batch while the other is in flight. Rows of one sequence stay in one
 * micro-batch, because its attention rows of a step are computed together.
 *
 * <p>The caller's thread runs the first micro-batch and a daemon thread runs the second. Both
 * always finish before {@link #step} returns or throws, so no work of a step outlives it.
 */
final class PingPong implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PingPong.class);

    private final Transformer transformer;
    private final ExecutorService secondThread = Executors.newSingleThreadExecutor(
            runnable -> Thread.ofPlatform().name("sparsemesh-ping-pong").daemon(true).unstarted(runnable));
    private final MicroBatch first = new MicroBatch();
    private final MicroBatch second = new MicroBatch();

    PingPong(Transformer transformer) {
        this.transformer = transformer;
    }

    /**
     * Runs the step as two micro-batches, with the contract of {@link Transformer#step}. Returns
     * false, having run nothing, when the rows belong to a single sequence.
     */
    boolean step(long[] sequenceIds, int[] tokens, int[] positions, int rows,
                 int[] logitRows, int logitCount, float[] logits) {
        int[] microBatchOfRow = split(sequenceIds, rows);
        if (microBatchOfRow == null) {
            return false;
        }
        int vocab = transformer.config().vocabSize();
        first.gather(0, microBatchOfRow, sequenceIds, tokens, positions, rows, logitRows, logitCount, vocab);
        second.gather(1, microBatchOfRow, sequenceIds, tokens, positions, rows, logitRows, logitCount, vocab);

        Future<?> secondDone = secondThread.submit(() -> second.forward(transformer));
        RuntimeException firstFailure = null;
        try {
            first.forward(transformer);
        } catch (RuntimeException e) {
            firstFailure = e;
        }
        RuntimeException secondFailure = await(secondDone);
        throwFailures(firstFailure, secondFailure);

        first.scatterLogits(logits, vocab);
        second.scatterLogits(logits, vocab);
        return true;
    }

    /**
     * Assigns each sequence, in order of first appearance, to the micro-batch with fewer rows so
     * far. Returns each row's micro-batch (0 or 1), or null when there is only one sequence.
     */
    private static int[] split(long[] sequenceIds, int rows) {
        Map<Long, Integer> rowsOfSequence = new HashMap<>();
        for (int row = 0; row < rows; row++) {
            rowsOfSequence.merge(sequenceIds[row], 1, Integer::sum);
        }
        if (rowsOfSequence.size() < 2) {
            return null;
        }

        Map<Long, Integer> microBatchOfSequence = new HashMap<>();
        int[] rowCounts = new int[2];
        int[] microBatchOfRow = new int[rows];
        for (int row = 0; row < rows; row++) {
            long id = sequenceIds[row];
            Integer assigned = microBatchOfSequence.get(id);
            if (assigned == null) {
                assigned = rowCounts[0] <= rowCounts[1] ? 0 : 1;
                microBatchOfSequence.put(id, assigned);
                rowCounts[assigned] += rowsOfSequence.get(id);
            }
            microBatchOfRow[row] = assigned;
        }
        return microBatchOfRow;
    }

    /** Waits for the second micro-batch and returns its failure, or null. */
    private static RuntimeException await(Future<?> done) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    done.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true; // the micro-batch must finish before its buffers are reused
                } catch (ExecutionException e) {
                    return e.getCause() instanceof RuntimeException runtime ? runtime
                            : new IllegalStateException("the second micro-batch failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Throws the step's failure: the union of the sequences when both micro-batches failed only
     * for some sequences, otherwise the failure that ends the whole step.
     */
    private static void throwFailures(RuntimeException first, RuntimeException second) {
        if (first == null && second == null) {
            return;
        }
        if (first instanceof SequencesFailedException a && second instanceof SequencesFailedException b) {
            long[] ids = LongStream.concat(Arrays.stream(a.sequenceIds()), Arrays.stream(b.sequenceIds()))
                    .distinct().toArray();
            SequencesFailedException both = new SequencesFailedException(ids, a.code(),
                    a.getMessage() + "; " + b.getMessage(), a);
            both.addSuppressed(b);
            throw both;
        }
        RuntimeException thrown = endsWholeStep(first) ? first : endsWholeStep(second) ? second
                : first != null ? first : second;
        RuntimeException other = thrown == first ? second : first;
        if (other != null) {
            thrown.addSuppressed(other);
        }
        throw thrown;
    }

    private static boolean endsWholeStep(RuntimeException failure) {
        return failure != null && !(failure instanceof SequencesFailedException);
    }

    @Override
    public void close() {
        secondThread.shutdownNow();
        log.debug("Stopped the ping-pong thread");
    }

    /** One micro-batch's rows, gathered from the step, with its own scratch buffers and logits. */
    private static final class MicroBatch {
        private final Workspace workspace = new Workspace();
        private long[] sequenceIds = new long[0];
        private int[] tokens = new int[0];
        private int[] positions = new int[0];
        private int[] logitRows = new int[0];
        private int[] logitIndex = new int[0]; // each logit row's index in the step's logit order
        private float[] logits = new float[0];
        private int rows;
        private int logitCount;

        void gather(int microBatch, int[] microBatchOfRow, long[] stepSequenceIds, int[] stepTokens,
                    int[] stepPositions, int stepRows, int[] stepLogitRows, int stepLogitCount, int vocab) {
            if (sequenceIds.length < stepRows) {
                sequenceIds = new long[stepRows];
                tokens = new int[stepRows];
                positions = new int[stepRows];
                logitRows = new int[stepRows];
                logitIndex = new int[stepRows];
            }
            int[] localRow = new int[stepRows];
            rows = 0;
            for (int row = 0; row < stepRows; row++) {
                if (microBatchOfRow[row] != microBatch) {
                    continue;
                }
                localRow[row] = rows;
                sequenceIds[rows] = stepSequenceIds[row];
                tokens[rows] = stepTokens[row];
                positions[rows] = stepPositions[row];
                rows++;
            }

            logitCount = 0;
            for (int i = 0; i < stepLogitCount; i++) {
                int row = stepLogitRows[i];
                if (microBatchOfRow[row] == microBatch) {
                    logitRows[logitCount] = localRow[row];
                    logitIndex[logitCount] = i;
                    logitCount++;
                }
            }
            if (logits.length < logitCount * vocab) {
                logits = new float[logitCount * vocab];
            }
        }

        void forward(Transformer transformer) {
            transformer.forward(sequenceIds, tokens, positions, rows, logitRows, logitCount, logits, workspace);
        }

        void scatterLogits(float[] stepLogits, int vocab) {
            for (int i = 0; i < logitCount; i++) {
                System.arraycopy(logits, i * vocab, stepLogits, logitIndex[i] * vocab, vocab);
            }
        }
    }
}
