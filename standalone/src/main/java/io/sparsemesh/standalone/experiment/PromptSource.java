package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.tokenizer.Tokenizer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

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
        int[] tokens;
        if (tokenizer != null) {
            tokens = tokenizer.encode(text, false);
        } else {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            tokens = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                tokens[i] = (bytes[i] & 0xff) % vocabSize;
            }
        }
        if (tokens.length < 16) {
            throw new IllegalArgumentException("the corpus " + corpus + " has only " + tokens.length + " tokens; give a larger text file");
        }
        return new PromptSource(tokens);
    }

    /** Returns {@code count} requests of {@code promptTokens} prompt tokens, each generating {@code outputTokens}. */
    public List<RequestShape> synthetic(int count, int promptTokens, int outputTokens) {
        List<RequestShape> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(new RequestShape(prompt(i, promptTokens), outputTokens));
        }
        return requests;
    }

    /**
     * Returns {@code count} requests with the prompt and completion lengths of the recorded ones,
     * cycling through {@code recorded} and clamping each request to {@code contextLength}.
     */
    public List<RequestShape> replay(List<RecordedRequest> recorded, int count, int contextLength) {
        List<RequestShape> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            RecordedRequest record = recorded.get(i % recorded.size());
            int prompt = Math.max(1, Math.min(record.promptTokens(), contextLength - 1));
            int output = Math.max(1, Math.min(record.completionTokens(), contextLength - prompt));
            requests.add(new RequestShape(prompt(i, prompt), output));
        }
        return requests;
    }

    private int[] prompt(int index, int length) {
        if (length > corpusTokens.length) {
            throw new IllegalArgumentException("a prompt of " + length + " tokens is longer than the corpus (" + corpusTokens.length + " tokens)");
        }
        long mixed = (index + 1) * 0x9E3779B97F4A7C15L;
        int start = (int) Math.floorMod(mixed >>> 17, (long) (corpusTokens.length - length + 1));
        return Arrays.copyOfRange(corpusTokens, start, start + length);
    }

    /** Lengths of one record of the {@code sparsemesh.generations} topic. */
    public record RecordedRequest(int promptTokens, int completionTokens) {
    }

    /**
     * Reads a JSONL export of the {@code sparsemesh.generations} topic, one record per line with at
     * least {@code prompt_tokens} and {@code completion_tokens}; blank lines are skipped.
     */
    public static List<RecordedRequest> readReplay(Path file) {
        JsonMapper json = JsonMapper.builder().build();
        List<RecordedRequest> records = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the replay file " + file, e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file.getFileName() + " line " + (i + 1);
            JsonNode record;
            try {
                record = json.readTree(line);
            } catch (JacksonException e) {
                throw new PlanException(where + ": not valid JSON: " + e.getOriginalMessage());
            }
            records.add(new RecordedRequest(count(record, "prompt_tokens", where), count(record, "completion_tokens", where)));
        }
        if (records.isEmpty()) {
            throw new PlanException(file + " has no records; export some from the sparsemesh.generations topic");
        }
        return records;
    }

    private static int count(JsonNode record, String field, String where) {
        JsonNode node = record.path(field);
        if (!node.isIntegralNumber() || node.asInt() < 1) {
            throw new PlanException(where + ": " + field + " must be an integer >= 1, got " + node);
        }
        return node.asInt();
    }
}
