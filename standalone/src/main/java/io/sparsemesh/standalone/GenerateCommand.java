package io.sparsemesh.standalone;

import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationListener;
import io.sparsemesh.core.engine.GenerationRequest;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.sampling.SamplingParams;
import io.sparsemesh.core.tokenizer.StreamingDecoder;
import io.sparsemesh.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * {@code ./sparsemesh generate}: loads a model into the single-process engine, streams the
 * continuation of a prompt to stdout and prints load time and prefill/decode speed to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a continuation with the single-process engine.")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH",
            description = "GGUF file, llama2.c .bin checkpoint or Hugging Face model folder (default: the bundled stories260K).")
    private Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "Tokenizer file when the model has none inside: tok*.bin for llama2.c, tokenizer.model or tokenizer.json.")
    private Path tokenizer;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text; BOS is added when the model has one.")
    private String prompt;

    @Option(names = "--prompt-ids", paramLabel = "ID,ID,...", split = ",",
            description = "Prompt as token ids, fed as given (no BOS added).")
    private int[] promptIds;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256",
            description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    private int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    private double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    private double topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K best tokens; 0 keeps all (default: ${DEFAULT-VALUE}).")
    private int topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed for sampling (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--ignore-eos", description = "Keep generating past end-of-sequence tokens.")
    private boolean ignoreEos;

    @Option(names = "--output", paramLabel = "text|ids", defaultValue = "text",
            description = "Print the continuation as text or as comma-separated token ids (default: ${DEFAULT-VALUE}).")
    private OutputFormat output;

    @Option(names = "--context", paramLabel = "N",
            description = "Context length in tokens (default: the model's, capped at 4096).")
    private Integer contextLength;

    enum OutputFormat { text, ids }

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (promptIds == null)) {
            throw new ParameterException(spec.commandLine(), "give exactly one of --prompt TEXT or --prompt-ids ID,ID,...");
        }
        if (maxTokens < 1) {
            throw new ParameterException(spec.commandLine(), "--max-tokens must be >= 1, got " + maxTokens);
        }
        SamplingParams params;
        try {
            params = new SamplingParams(temperature, topK, topP, seed, maxTokens, Set.of(), List.of(), ignoreEos);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (contextLength != null && contextLength < 2) {
            throw new ParameterException(spec.commandLine(), "--context must be >= 2 tokens, got " + contextLength);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = System.err;

        long loadStart = System.nanoTime();
        Path modelPath = model != null ? model : BundledModel.path();
        try (LocalEngine engine = LocalEngine.open(modelPath, tokenizer, contextLength)) {
            err.printf("Loaded %s (%s, %d layers) in %.0f ms%n", modelPath, engine.config().architecture(),
                    engine.config().numLayers(), (System.nanoTime() - loadStart) / 1e6);

            Tokenizer vocabulary = engine.tokenizer();
            if (output == OutputFormat.text && vocabulary == null) {
                throw new ParameterException(spec.commandLine(), modelPath + " has no tokenizer: pass --tokenizer PATH,"
                        + " or use --prompt-ids with --output ids");
            }
            int[] promptTokens = promptIds != null ? promptIds : encode(vocabulary, prompt);

            CompletableFuture<GenerationStats> done = new CompletableFuture<>();
            StreamingDecoder decoder = vocabulary == null ? null : vocabulary.newStreamingDecoder();
            GenerationListener listener = new GenerationListener() {
                private boolean first = true;

                @Override
                public boolean onToken(int token) {
                    if (output == OutputFormat.ids) {
                        out.print((first ? "" : ",") + token);
                    } else {
                        out.print(decoder.push(token));
                    }
                    out.flush();
                    first = false;
                    return true;
                }

                @Override
                public void onFinish(FinishReason reason, GenerationStats stats) {
                    if (decoder != null && output == OutputFormat.text) {
                        out.print(decoder.flush());
                    }
                    out.println();
                    done.complete(stats);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            };
            engine.scheduler().submit(new GenerationRequest("cli", promptTokens, params), listener);
            GenerationStats stats = done.get();

            double prefillSeconds = stats.timeToFirstTokenNanos() / 1e9;
            double decodeSeconds = stats.decodeNanos() / 1e9;
            err.printf("prefill: %d tokens in %.1f ms (%.1f tokens/s)%n", stats.promptTokens(), prefillSeconds * 1e3,
                    stats.promptTokens() / prefillSeconds);
            err.printf("decode: %d tokens in %.1f ms (%.1f tokens/s)%n", stats.completionTokens(), decodeSeconds * 1e3,
                    stats.completionTokens() > 1 ? (stats.completionTokens() - 1) / decodeSeconds : 0.0);
        }
        return 0;
    }

    private int[] encode(Tokenizer vocabulary, String text) {
        int[] ids = vocabulary.encode(text, true);
        if (ids.length == 0) {
            throw new ParameterException(spec.commandLine(), "the prompt encodes to no tokens; give a non-empty --prompt");
        }
        return ids;
    }
}
