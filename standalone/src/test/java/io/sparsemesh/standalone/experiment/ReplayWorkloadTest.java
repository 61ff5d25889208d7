package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.LogRecordJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests built from {@code sparsemesh.generations} records for glm5-mini-gutenberg (byte-level
 * BPE without BOS, no chat template, context 256), one record of each kind a topic can hold.
 */
class ReplayWorkloadTest {

    static final Path GLM5_MINI = TestData.root().resolve("models/glm5-mini-gutenberg");
    static final int CONTEXT = 256;
    static final String TEXT_PROMPT = "It was the best of times, it was the worst of times";
    static final String LONG_PROMPT = "the sea ".repeat(300);

    private static final Tokenizer TOKENIZER = Tokenizers.open(GLM5_MINI);

    @TempDir
    Path directory;

    /**
     * Returns one record of each kind: a text prompt, chat messages, no prompt text, an error
     * without a generated token, another schema version, and a prompt longer than the context.
     */
    static List<GenerationRecord> recordsOfEachKind() {
        Instant now = Instant.parse("2026-05-06T07:00:00Z");
        return List.of(
                new GenerationRecord("text", now, "m", 13, 6, 1.0, 1.0, "length", null, TEXT_PROMPT, null, "x"),
                new GenerationRecord("chat", now.plusSeconds(1), "m", 9, 5, 1.0, 1.0, "length", null, null,
                        List.of(new GenerationRecord.Message("system", "Be brief."),
                                new GenerationRecord.Message("user", "Call me Ishmael.")), "x"),
                new GenerationRecord("no-text", now.plusSeconds(2), "m", 12, 4, 1.0, 1.0, "length", null, null, null, null),
                new GenerationRecord("error", now.plusSeconds(3), "m", 7, 0, null, null, "error", "shard down", "Hi", null, null),
                new GenerationRecord(2, "v2", now.plusSeconds(4), "m", 7, 3, 1.0, 1.0, "length", null, "Hi", null, "x"),
                new GenerationRecord("long", now.plusSeconds(5), "m", 600, 8, 1.0, 1.0, "length", null, LONG_PROMPT, null, "x"));
    }

    static PromptEncoder encoder() {
        return new PromptEncoder(TOKENIZER, ChatTemplates.open(GLM5_MINI), TOKENIZER.vocabSize());
    }

    static PromptSource corpus() {
        return PromptSource.fromCorpus(TestData.root().resolve(PlanParser.DEFAULT_CORPUS), TOKENIZER, TOKENIZER.vocabSize());
    }

    /** Checks the requests built from {@link #recordsOfEachKind()} with {@code without_prompt: lengths}. */
    static void assertRequestsOfEachKind(List<RequestShape> requests) {
        assertEquals(4, requests.size(), "text, chat, no text (lengths) and long");
        assertArrayEquals(TOKENIZER.encode(TEXT_PROMPT, false), requests.get(0).promptIds(), "text prompt, no BOS");
        assertEquals(6, requests.get(0).maxTokens());
        assertArrayEquals(TOKENIZER.encode("Call me Ishmael.", false), requests.get(1).promptIds(),
                "chat without a template: the last user message");
        assertEquals(5, requests.get(1).maxTokens());
        assertEquals(12, requests.get(2).promptIds().length, "corpus prompt of the recorded length");
        assertEquals(4, requests.get(2).maxTokens());
        assertArrayEquals(Arrays.copyOf(TOKENIZER.encode(LONG_PROMPT, false), CONTEXT - 1), requests.get(3).promptIds(),
                "the first context - 1 tokens");
        assertEquals(1, requests.get(3).maxTokens(), "the output fills the rest of the context");
    }

    private static List<RecordedValue> values(List<GenerationRecord> records) {
        List<RecordedValue> values = new ArrayList<>();
        for (GenerationRecord record : records) {
            values.add(new RecordedValue("record " + record.requestId(), LogRecordJson.toJson(record)));
        }
        return values;
    }

    private static ReplayWorkload build(List<RecordedValue> values, boolean strict, ExperimentPlan.WithoutPrompt withoutPrompt) {
        return ReplayWorkload.build(values, "test records", strict, withoutPrompt, encoder(), corpus(), CONTEXT);
    }

    @Test
    void eachRecordKindCounted() {
        ReplayWorkload workload = build(values(recordsOfEachKind()), false, ExperimentPlan.WithoutPrompt.LENGTHS);

        assertRequestsOfEachKind(workload.requests(4));
        ReplaySummary summary = workload.summary();
        assertEquals(6, summary.read());
        assertEquals(3, summary.withPrompt());
        assertEquals(1, summary.withLengths());
        assertEquals(0, summary.skippedWithoutPrompt());
        assertEquals(1, summary.skippedNoCompletion());
        assertEquals(1, summary.skippedUnknownVersion());
        assertEquals(0, summary.skippedInvalid());
        assertEquals(1, summary.truncated());
    }

    @Test
    void requestsCycleFromFirst() {
        ReplayWorkload workload = build(values(recordsOfEachKind()), false, ExperimentPlan.WithoutPrompt.LENGTHS);

        List<RequestShape> requests = workload.requests(6);
        assertEquals(6, requests.size());
        assertArrayEquals(requests.get(0).promptIds(), requests.get(4).promptIds());
        assertArrayEquals(requests.get(1).promptIds(), requests.get(5).promptIds());
    }

    @Test
    void skipLeavesOutRecordsWithoutText() {
        ReplayWorkload workload = build(values(recordsOfEachKind()), false, ExperimentPlan.WithoutPrompt.SKIP);

        assertEquals(3, workload.summary().replayed());
        assertEquals(1, workload.summary().skippedWithoutPrompt());
        assertEquals(0, workload.summary().withLengths());
    }

    @Test
    void failNamesRecordWithoutText() {
        ReplayException error = assertThrows(ReplayException.class,
                () -> build(values(recordsOfEachKind()), false, ExperimentPlan.WithoutPrompt.FAIL));

        assertTrue(error.getMessage().contains("record no-text (request no-text) has no prompt text"), error.getMessage());
        assertTrue(error.getMessage().contains("sparsemesh.router.log.content-enabled=true"), error.getMessage());
    }

    @Test
    void nothingReplayableFails() {
        List<RecordedValue> values = values(List.of(recordsOfEachKind().get(2), recordsOfEachKind().get(3)));

        ReplayException error = assertThrows(ReplayException.class,
                () -> build(values, false, ExperimentPlan.WithoutPrompt.SKIP));

        assertTrue(error.getMessage().contains("none of the 2 records read from test records can be replayed"),
                error.getMessage());
        assertTrue(error.getMessage().contains("1 without prompt text"), error.getMessage());
        assertTrue(error.getMessage().contains("1 without a generated token"), error.getMessage());
    }

    /** Values of other producers in a topic are counted and skipped, but an invalid line of a file stops the replay. */
    @Test
    void invalidValueSkippedOrFatal() {
        List<RecordedValue> values = new ArrayList<>(values(recordsOfEachKind().subList(0, 1)));
        values.add(new RecordedValue("partition 0 offset 9", "{not json".getBytes(StandardCharsets.UTF_8)));
        values.add(new RecordedValue("partition 0 offset 10", "{\"schema_version\":1}".getBytes(StandardCharsets.UTF_8)));

        ReplayWorkload lenient = build(values, false, ExperimentPlan.WithoutPrompt.LENGTHS);
        assertEquals(2, lenient.summary().skippedInvalid());
        assertEquals(1, lenient.summary().replayed());

        ReplayException strict = assertThrows(ReplayException.class,
                () -> build(values, true, ExperimentPlan.WithoutPrompt.LENGTHS));
        assertTrue(strict.getMessage().startsWith("partition 0 offset 9: not a sparsemesh.generations record"),
                strict.getMessage());
    }

    /** A JSONL export of the topic replays like the topic itself. */
    @Test
    void exportedFileReplays() throws Exception {
        Path file = directory.resolve("generations.jsonl");
        StringBuilder lines = new StringBuilder();
        for (GenerationRecord record : recordsOfEachKind()) {
            lines.append(new String(LogRecordJson.toJson(record), StandardCharsets.UTF_8)).append("\n\n");
        }
        Files.writeString(file, lines);

        List<RecordedValue> values = RecordedValue.readLines(file);
        assertEquals("generations.jsonl line 3", values.get(1).origin(), "blank lines are skipped but counted");
        assertRequestsOfEachKind(build(values, true, ExperimentPlan.WithoutPrompt.LENGTHS).requests(4));
    }

    @Test
    void bytesMapWithoutTokenizer() {
        PromptEncoder bytes = new PromptEncoder(null, null, 200);

        assertArrayEquals(new int[]{'H', 'i'}, bytes.encodeText("Hi"));
        assertArrayEquals(new int[]{0xc3 % 200, 0xa9 % 200}, bytes.encodeText("é"));
        assertArrayEquals(new int[]{'o', 'k'}, bytes.encodeChat(List.of(new GenerationRecord.Message("user", "ok"))));
    }
}
