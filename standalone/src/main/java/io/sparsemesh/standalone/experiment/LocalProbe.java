package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.RoutingObserver;
import io.sparsemesh.core.moe.ShardLayout;

import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * Runs prompts through the single-process engine in this JVM for what the services cannot
 * measure: the quality of an index variant against the model's own config, which needs both
 * models' logits for the same tokens.
 */
final class LocalProbe {

    private LocalProbe() {
    }

    /**
     * Quality of a variant on one token sequence: the largest and mean absolute logit difference
     * from the reference model over every position, and both models' perplexity of the sequence.
     */
    record Quality(String variant, int tokens, double maxAbsLogitDiff, double meanAbsLogitDiff, double perplexity,
                   double referencePerplexity) {
    }

    static Quality quality(Path reference, Path variant, String variantName, int[] tokens) {
        float[] expected = logits(reference, tokens);
        float[] actual = logits(variant, tokens);
        double max = 0;
        double sum = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            max = Math.max(max, diff);
            sum += diff;
        }
        int vocab = expected.length / tokens.length;
        return new Quality(variantName, tokens.length, max, sum / expected.length, perplexity(actual, tokens, vocab),
                perplexity(expected, tokens, vocab));
    }

    /** Prefills {@code tokens} as one sequence and returns the logits of every position, [position × vocab]. */
    private static float[] logits(Path model, int[] tokens) {
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null);
             Transformer transformer = load(checkpoint, tokens.length)) {
            int vocab = checkpoint.config().vocabSize();
            int rows = tokens.length;
            float[] logits = new float[rows * vocab];
            long[] ids = new long[rows];
            int[] positions = IntStream.range(0, rows).toArray();
            transformer.step(ids, tokens, positions, rows, positions.clone(), rows, logits);
            return logits;
        }
    }

    private static Transformer load(ModelCheckpoint checkpoint, int context) {
        ModelConfig config = checkpoint.config();
        AttentionLayer[] layers = new AttentionLayer[config.numLayers()];
        for (int layer = 0; layer < layers.length; layer++) {
            layers[layer] = TransformerLoader.loadAttention(checkpoint.store(), config, layer);
        }
        LocalAttention attention = new LocalAttention(layers, 0, context);
        ExpertBackend experts = config.moe() == null ? null
                : ExpertShard.load(checkpoint.store(), config, new ShardLayout(1), 0, ExpertShard.DensePlacement.ROUTER);
        return TransformerLoader.loadRouter(config, checkpoint.store(), attention, experts,
                ExpertShard.DensePlacement.ROUTER, RoutingObserver.NONE);
    }

    /** Returns exp of the mean negative log-likelihood of each next token under the logits of the position before it. */
    static double perplexity(float[] logits, int[] tokens, int vocab) {
        double nll = 0;
        for (int position = 0; position + 1 < tokens.length; position++) {
            int offset = position * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[offset + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[offset + v] - max);
            }
            nll -= logits[offset + tokens[position + 1]] - max - Math.log(sum);
        }
        return Math.exp(nll / (tokens.length - 1));
    }
}
