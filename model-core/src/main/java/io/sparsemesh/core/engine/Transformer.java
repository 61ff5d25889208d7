package io.sparsemesh.core.engine;

import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tensor.Workspace;

/**
 * A decoder-only transformer with pre-norm blocks, {@code x' = x + S(RmsNorm(x))} and
 * {@code x'' = x' + C(RmsNorm(x'))}, where the sequence mixer S runs in an {@link AttentionBackend}
 * and the channel mixer C is a {@link ChannelMixer}. One call runs one step for a batch of rows
 * that may belong to many sequences at different positions.
 *
 * <p>Not thread-safe: one step runs at a time, although with {@linkplain #setPingPong ping-pong}
 * a step runs its two micro-batches on two threads.
 */
public final class Transformer implements AutoCloseable {

    private enum Buffer { HIDDEN, NORMED, MIXED, LAST }

    private final ModelConfig config;
    private final Matrix embedTokens;      // [vocab, hidden]
    private final RmsNorm[] inputNorms;    // per layer, before attention
    private final RmsNorm[] postAttentionNorms; // per layer, before the channel mixer
    private final AttentionBackend attention;
    private final ChannelMixer[] channelMixers;
    private final RmsNorm finalNorm;
    private final Matrix lmHead;           // [vocab, hidden]
    private final Workspace workspace = new Workspace();
    private PingPong pingPong; // null when off

    public Transformer(ModelConfig config, Matrix embedTokens, RmsNorm[] inputNorms, RmsNorm[] postAttentionNorms,
                       AttentionBackend attention, ChannelMixer[] channelMixers, RmsNorm finalNorm, Matrix lmHead) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.inputNorms = inputNorms.clone();
        this.postAttentionNorms = postAttentionNorms.clone();
        this.attention = attention;
        this.channelMixers = channelMixers.clone();
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    public ModelConfig config() {
        return config;
    }

    public AttentionBackend attention() {
        return attention;
    }

    /**
     * Turns ping-pong on or off for the following steps. With ping-pong on, a step over two or
     * more sequences runs as two micro-batches on two threads, so that one micro-batch's attention
     * hop overlaps the other's expert hop when the backends are services. Results are the same
     * either way. Call it between steps, from the thread that runs them.
     */
    public void setPingPong(boolean enabled) {
        if (enabled && pingPong == null) {
            pingPong = new PingPong(this);
        } else if (!enabled && pingPong != null) {
            pingPong.close();
            pingPong = null;
        }
    }

    public boolean pingPong() {
        return pingPong != null;
    }

    /**
     * Runs one forward step.
     *
     * @param sequenceIds sequence of each row
     * @param tokens      input token of each row
     * @param positions   position of each row's token in its sequence
     * @param rows        number of rows
     * @param logitRows   rows whose next-token logits are wanted, in increasing order
     * @param logitCount  number of entries of {@code logitRows} to use
     * @param logits      receives {@code logitCount × vocab} logits, in the order of {@code logitRows}
     * @throws SequencesFailedException when a backend failed for some sequences only; the step may
     *                                  be run again without them
     */
    public void step(long[] sequenceIds, int[] tokens, int[] positions, int rows,
                     int[] logitRows, int logitCount, float[] logits) {
        if (pingPong != null && pingPong.step(sequenceIds, tokens, positions, rows, logitRows, logitCount, logits)) {
            return;
        }
        forward(sequenceIds, tokens, positions, rows, logitRows, logitCount, logits, workspace);
    }

    /**
     * Runs the rows through every layer as one micro-batch, with scratch buffers from
     * {@code workspace}. Two calls may run at once on different threads, for disjoint sequences
     * and with different workspaces.
     */
    void forward(long[] sequenceIds, int[] tokens, int[] positions, int rows,
                 int[] logitRows, int logitCount, float[] logits, Workspace workspace) {
        try {
            run(sequenceIds, tokens, positions, rows, logitRows, logitCount, logits, workspace);
        } catch (RowsFailedException e) {
            long[] failed = java.util.Arrays.stream(e.rows()).mapToLong(row -> sequenceIds[row]).distinct().toArray();
            throw new SequencesFailedException(failed, e.code(), e.getMessage(), e);
        }
    }

    private void run(long[] sequenceIds, int[] tokens, int[] positions, int rows,
                     int[] logitRows, int logitCount, float[] logits, Workspace workspace) {
        int hidden = config.hiddenSize();
        float[] x = workspace.floats(Buffer.HIDDEN, rows * hidden);
        float[] normed = workspace.floats(Buffer.NORMED, rows * hidden);
        float[] mixed = workspace.floats(Buffer.MIXED, rows * hidden);

        // token embeddings
        for (int row = 0; row < rows; row++) {
            int token = tokens[row];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
            embedTokens.copyRow(token, x, row * hidden);
        }

        AttentionBackend.AttentionStep attentionStep = attention.beginStep(sequenceIds, positions, rows);
        for (int layer = 0; layer < config.numLayers(); layer++) {

            // sequence mixing: x += attention(norm(x))
            inputNorms[layer].forward(x, normed, rows);
            attentionStep.forward(layer, normed, mixed);
            addInPlace(x, mixed, rows * hidden);

            // channel mixing: x += mlp(norm(x))
            postAttentionNorms[layer].forward(x, normed, rows);
            channelMixers[layer].forward(normed, mixed, rows, workspace);
            addInPlace(x, mixed, rows * hidden);
        }

        // final norm and LM head, only for the rows that sample a token
        float[] last = workspace.floats(Buffer.LAST, logitCount * hidden);
        for (int i = 0; i < logitCount; i++) {
            finalNorm.forward(x, logitRows[i] * hidden, last, i * hidden, 1);
        }
        lmHead.matmul(last, logits, logitCount);
    }

    private static void addInPlace(float[] x, float[] delta, int length) {
        for (int i = 0; i < length; i++) {
            x[i] += delta[i];
        }
    }

    /** Frees the caches of a finished or cancelled sequence. */
    public void release(long sequenceId) {
        attention.release(sequenceId);
    }

    @Override
    public void close() {
        setPingPong(false);
        attention.close();
    }
}
