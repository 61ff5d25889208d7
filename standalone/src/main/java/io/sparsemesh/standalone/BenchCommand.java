package io.sparsemesh.standalone;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code ./sparsemesh bench}: prefill and decode throughput of the single-process engine at
 * several batch sizes, measured on the transformer step itself (no sampling, no scheduler), with
 * the median of several repetitions.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill and decode tokens/s of the single-process engine at several batch sizes.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH", description = "Checkpoint (default: the bundled stories260K).")
    private Path model;

    @Option(names = "--batch", paramLabel = "B,B,...", split = ",", defaultValue = "1,8,32",
            description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
    private int[] batchSizes;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "64",
            description = "Prompt tokens per sequence, prefilled in one step per sequence (default: ${DEFAULT-VALUE}).")
    private int promptTokens;

    @Option(names = "--decode-tokens", paramLabel = "N", defaultValue = "128",
            description = "Decode steps per repetition (default: ${DEFAULT-VALUE}).")
    private int decodeTokens;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "5",
            description = "Measured repetitions per batch size; the median is reported (default: ${DEFAULT-VALUE}).")
    private int repeats;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Unmeasured repetitions first, for the JIT (default: ${DEFAULT-VALUE}).")
    private int warmup;

    @Override
    public Integer call() {
        for (int batch : batchSizes) {
            requirePositive("--batch", batch);
        }
        requirePositive("--prompt-tokens", promptTokens);
        requirePositive("--decode-tokens", decodeTokens);
        requirePositive("--repeats", repeats);
        if (warmup < 0) {
            throw new ParameterException(spec.commandLine(), "--warmup must be >= 0, got " + warmup);
        }
        Path modelPath = model != null ? model : BundledModel.path();
        ModelCheckpoint checkpoint = Checkpoints.open(modelPath, null);
        int context = promptTokens + decodeTokens;
        System.out.printf("model %s, %d prompt + %d decode tokens per sequence, median of %d runs after %d warm-up%n",
                modelPath.getFileName(), promptTokens, decodeTokens, repeats, warmup);
        System.out.printf("%-6s %18s %18s%n", "batch", "prefill tokens/s", "decode tokens/s");
        try (Transformer transformer = TransformerLoader.loadLocal(checkpoint.config(), checkpoint.store(), context)) {
            for (int batch : batchSizes) {
                double[] prefill = new double[repeats];
                double[] decode = new double[repeats];
                for (int run = -warmup; run < repeats; run++) {
                    double[] measured = runOnce(transformer, batch, run + warmup);
                    if (run >= 0) {
                        prefill[run] = measured[0];
                        decode[run] = measured[1];
                    }
                }
                System.out.printf("%-6d %18.0f %18.0f%n", batch, median(prefill), median(decode));
            }
        } finally {
            checkpoint.store().close();
        }
        return 0;
    }

    /** Prefills {@code batch} sequences, then decodes them together; returns {prefill, decode} tokens/s. */
    private double[] runOnce(Transformer transformer, int batch, int run) {
        int vocab = transformer.config().vocabSize();
        Random random = new Random(run);
        long firstId = 1_000_000L * (run + 1);
        float[] logits = new float[batch * vocab];

        long prefillStart = System.nanoTime();
        for (int s = 0; s < batch; s++) {
            int[] tokens = random.ints(promptTokens, 0, vocab).toArray();
            long[] ids = new long[promptTokens];
            Arrays.fill(ids, firstId + s);
            int[] positions = IntStream.range(0, promptTokens).toArray();
            transformer.step(ids, tokens, positions, promptTokens, new int[]{promptTokens - 1}, 1, logits);
        }
        long prefillNanos = System.nanoTime() - prefillStart;

        long[] ids = new long[batch];
        int[] tokens = new int[batch];
        int[] positions = new int[batch];
        int[] logitRows = IntStream.range(0, batch).toArray();
        for (int s = 0; s < batch; s++) {
            ids[s] = firstId + s;
        }
        long decodeStart = System.nanoTime();
        for (int step = 0; step < decodeTokens; step++) {
            for (int s = 0; s < batch; s++) {
                tokens[s] = random.nextInt(vocab);
                positions[s] = promptTokens + step;
            }
            transformer.step(ids, tokens, positions, batch, logitRows, batch, logits);
        }
        long decodeNanos = System.nanoTime() - decodeStart;

        for (int s = 0; s < batch; s++) {
            transformer.release(firstId + s);
        }
        return new double[]{batch * promptTokens / (prefillNanos / 1e9), batch * decodeTokens / (decodeNanos / 1e9)};
    }

    private void requirePositive(String option, int value) {
        if (value < 1) {
            throw new ParameterException(spec.commandLine(), option + " must be >= 1, got " + value);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
