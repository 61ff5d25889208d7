package io.sparsemesh.standalone.experiment;

import io.sparsemesh.core.tokenizer.chat.ChatTemplateException;
import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.LogRecordJson;
import io.sparsemesh.log.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The requests of a replay, one per usable {@code sparsemesh.generations} record in the order
 * read. A request sends the record's prompt, text or chat messages encoded for the plan's model,
 * and generates the record's {@code completion_tokens} (requests set {@code ignore_eos}). A prompt
 * longer than the context keeps its first {@code context − 1} tokens, and the output is cut to fit
 * the rest. Records without prompt text follow the plan's {@code without_prompt}. Records that
 * generated nothing and records of another schema version are left out and counted.
 */
final class ReplayWorkload {

    private static final Logger log = LoggerFactory.getLogger(ReplayWorkload.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Skipped records are counted in the report, so the log needs only a sample of them. */
    private static final RateLimitedLog SKIPPED = new RateLimitedLog(log, Duration.ofSeconds(10));

    private final List<RequestShape> requests;
    private final ReplaySummary summary;

    private ReplayWorkload(List<RequestShape> requests, ReplaySummary summary) {
        this.requests = requests;
        this.summary = summary;
    }

    /**
     * Builds the requests from {@code values}.
     *
     * @param strict  whether a value that is no valid record stops the replay (a file someone edited)
     *                rather than being skipped and counted (a topic other producers may write to)
     * @param corpus  prompts of the recorded lengths for records without prompt text
     * @param context tokens per sequence of the model, prompt plus output
     * @throws ReplayException when {@code without_prompt} is fail and a record has no prompt text,
     *                         or when no record can be replayed
     */
    static ReplayWorkload build(List<RecordedValue> values, String source, boolean strict,
                                ExperimentPlan.WithoutPrompt withoutPrompt, PromptEncoder encoder, PromptSource corpus,
                                int context) {
        Counts counts = new Counts();
        List<RequestShape> requests = new ArrayList<>();
        for (RecordedValue value : values) {
            GenerationRecord record = parse(value, strict, counts);
            if (record == null) {
                continue;
            }
            if (record.completionTokens() < 1) {
                counts.noCompletion++;
                continue;
            }
            int[] prompt;
            try {
                prompt = recordedPrompt(record, encoder);
            } catch (ChatTemplateException e) {
                if (strict) {
                    throw new ReplayException(value.origin() + ": the model's chat template rejected the messages: "
                            + e.getMessage());
                }
                SKIPPED.warn("Skipping the record at " + value.origin() + " (request " + record.requestId()
                        + "): the model's chat template rejected its messages", e.getMessage());
                counts.invalid++;
                continue;
            }
            if (prompt == null) {
                switch (withoutPrompt) {
                    case FAIL -> throw new ReplayException(value.origin() + " (request " + record.requestId()
                            + ") has no prompt text and workload.replay.without_prompt is fail. Turn on the router's"
                            + " content logging (sparsemesh.router.log.content-enabled=true) for the requests to"
                            + " replay, or set without_prompt to lengths or skip");
                    case SKIP -> {
                        counts.withoutPrompt++;
                        continue;
                    }
                    case LENGTHS -> {
                        int length = Math.max(1, Math.min(record.promptTokens(), context - 1));
                        prompt = corpus.promptAt(counts.read, length);
                        counts.lengths++;
                    }
                }
            } else {
                counts.prompt++;
            }
            if (prompt.length > context - 1) {
                prompt = Arrays.copyOf(prompt, context - 1);
                counts.truncated++;
            }
            requests.add(new RequestShape(prompt, Math.min(record.completionTokens(), context - prompt.length)));
        }
        ReplaySummary summary = new ReplaySummary(source, values.size(), counts.prompt, counts.lengths,
                counts.withoutPrompt, counts.noCompletion, counts.unknownVersion, counts.invalid, counts.truncated);
        if (requests.isEmpty()) {
            throw new ReplayException("none of the " + values.size() + " records read from " + source
                    + " can be replayed: " + counts.withoutPrompt + " without prompt text (without_prompt: skip), "
                    + counts.noCompletion + " without a generated token, " + counts.unknownVersion
                    + " of an unknown schema_version, " + counts.invalid + " invalid");
        }
        return new ReplayWorkload(List.copyOf(requests), summary);
    }

    /** Returns {@code count} requests, cycling through the replayed records from the first. */
    List<RequestShape> requests(int count) {
        List<RequestShape> cycled = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            cycled.add(requests.get(i % requests.size()));
        }
        return cycled;
    }

    ReplaySummary summary() {
        return summary;
    }

    /** Returns the record, or null after counting why it is skipped. */
    private static GenerationRecord parse(RecordedValue value, boolean strict, Counts counts) {
        counts.read++;
        String problem;
        try {
            JsonNode node = JSON.readTree(value.json());
            int version = node.path("schema_version").asInt(-1);
            if (node.isObject() && version != GenerationRecord.SCHEMA_VERSION) {
                SKIPPED.warn("Skipping the record at " + value.origin() + ": this build reads schema_version "
                        + GenerationRecord.SCHEMA_VERSION + " only", "schema_version " + node.path("schema_version"));
                counts.unknownVersion++;
                return null;
            }
            return LogRecordJson.fromJson(value.json(), GenerationRecord.class);
        } catch (JacksonException e) {
            problem = "not valid JSON: " + e.getOriginalMessage();
        } catch (IllegalArgumentException e) {
            problem = e.getMessage();
        }
        if (strict) {
            throw new ReplayException(value.origin() + ": not a sparsemesh.generations record: " + problem);
        }
        SKIPPED.warn("Skipping the value at " + value.origin() + ": not a sparsemesh.generations record", problem);
        counts.invalid++;
        return null;
    }

    /** Returns the encoded prompt of a record, or null when it has no prompt text. */
    private static int[] recordedPrompt(GenerationRecord record, PromptEncoder encoder) {
        int[] ids = null;
        if (record.prompt() != null && !record.prompt().isEmpty()) {
            ids = encoder.encodeText(record.prompt());
        } else if (record.messages() != null && !record.messages().isEmpty()) {
            ids = encoder.encodeChat(record.messages());
        }
        return ids == null || ids.length == 0 ? null : ids;
    }

    private static final class Counts {
        int read;
        int prompt;
        int lengths;
        int withoutPrompt;
        int noCompletion;
        int unknownVersion;
        int invalid;
        int truncated;
    }
}
