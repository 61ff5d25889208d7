package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The prompts of a workload, cut from the tokens of a text corpus. A model with a tokenizer
 * encodes the corpus; for a model without one, each byte of the corpus maps to the id
 * {@code byte mod vocab}, which keeps the prompts deterministic and text-shaped. Request i starts
 * at a fixed pseudo-random offset, so every point and repetition sends the same prompts.
 */
public final class PromptSource {

    /** Corpus characters read at most; enough for thousands of distinct prompts. */
    private static final int MAX_CORPUS_CHARS = 200_000;

    private final int[] corpusTokens;

    private PromptSource(int[] corpusTokens) {
        this.corpusTokens = corpusTokens;
    }

    /** @param tokenizer the model's tokenizer, or null to map bytes to ids */
    public static PromptSource fromCorpus(Path corpus, Tokenizer tokenizer, int vocabSize) {
        String text;
        try {
            text = Files.readString(corpus, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the corpus " + corpus, e);
        }
        text = text.substring(0, Math.min(text.length(), MAX_CORPUS_CHARS));
        int[] tokens = tokenizer != null ? tokenizer.encode(text, false) : PromptEncoder.byteIds(text, vocabSize);
        if (tokens.length < 16) {
            throw new IllegalArgumentException("the corpus " + corpus + " has only " + tokens.length + " tokens; give a larger text file");
        }
        return new PromptSource(tokens);
    }

    /** Returns {@code count} requests of {@code promptTokens} prompt tokens, each generating {@code outputTokens}. */
    public List<RequestShape> synthetic(int count, int promptTokens, int outputTokens) {
        List<RequestShape> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(new RequestShape(promptAt(i, promptTokens), outputTokens));
        }
        return requests;
    }

    /** Returns the prompt of request {@code index}: {@code length} corpus tokens from a fixed pseudo-random offset. */
    int[] promptAt(int index, int length) {
        if (length > corpusTokens.length) {
            throw new IllegalArgumentException("a prompt of " + length + " tokens is longer than the corpus (" + corpusTokens.length + " tokens)");
        }
        long mixed = (index + 1) * 0x9E3779B97F4A7C15L;
        int start = (int) Math.floorMod(mixed >>> 17, (long) (corpusTokens.length - length + 1));
        return Arrays.copyOfRange(corpusTokens, start, start + length);
    }
}
