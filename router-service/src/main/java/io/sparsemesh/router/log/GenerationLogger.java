package io.sparsemesh.router.log;

import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.log.GenerationRecord;
import io.sparsemesh.log.MeshLog;
import io.sparsemesh.log.RateLimitedLog;
import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.GenerationEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Publishes a {@code sparsemesh.generations} record when a generation finishes or fails. Prompt
 * and completion text go into the record only with content logging on; token counts, timings and
 * the finish reason always do. A request with several choices gives one record per choice, all
 * with the request's id.
 */
public final class GenerationLogger implements GenerationEventsDecorator {

    private static final Logger log = LoggerFactory.getLogger(GenerationLogger.class);

    private final MeshLog meshLog;
    private final String modelId;
    private final boolean logContent;
    private final Clock clock;
    private final RateLimitedLog publishFailures = new RateLimitedLog(log, Duration.ofSeconds(10));

    public GenerationLogger(MeshLog meshLog, String modelId, boolean logContent, Clock clock) {
        this.meshLog = meshLog;
        this.modelId = modelId;
        this.logContent = logContent;
        this.clock = clock;
    }

    @Override
    public GenerationEvents decorate(GenerationCommand command, GenerationEvents events) {
        return new LoggedEvents(command, events);
    }

    private void publish(GenerationRecord record) {
        // Logging must not break serving: this runs on the scheduler's thread.
        try {
            meshLog.publish(record);
        } catch (RuntimeException e) {
            publishFailures.warn("Failed to publish the generation record of request " + record.requestId(), e.toString());
        }
    }

    /** Passes events on and counts what the record needs. */
    private final class LoggedEvents implements GenerationEvents {
        private final GenerationCommand command;
        private final GenerationEvents delegate;
        private final StringBuilder completion;
        private int promptTokens;
        private int completionTokens;

        LoggedEvents(GenerationCommand command, GenerationEvents delegate) {
            this.command = command;
            this.delegate = delegate;
            this.completion = logContent ? new StringBuilder() : null;
        }

        @Override
        public void started(int[] promptIds) {
            this.promptTokens = promptIds.length;
            delegate.started(promptIds);
        }

        @Override
        public void token(int id, String text) {
            completionTokens++;
            if (completion != null) {
                completion.append(text);
            }
            delegate.token(id, text);
        }

        @Override
        public void finished(FinishReason reason, GenerationStats stats, String text) {
            if (completion != null) {
                completion.append(text);
            }
            delegate.finished(reason, stats, text);

            int generated = stats.completionTokens();
            Double timeToFirstTokenMs = generated > 0 ? stats.timeToFirstTokenNanos() / 1e6 : null;
            Double timePerOutputTokenMs = generated > 1 ? stats.timePerOutputTokenNanos() / 1e6 : null;
            publish(record(stats.promptTokens(), generated, timeToFirstTokenMs, timePerOutputTokenMs,
                    reason.openAiName(), null));
        }

        @Override
        public void failed(Throwable error) {
            delegate.failed(error);
            publish(record(promptTokens, completionTokens, null, null, FinishReason.ERROR.openAiName(),
                    String.valueOf(error.getMessage())));
        }

        private GenerationRecord record(int prompt, int generated, Double timeToFirstTokenMs,
                                        Double timePerOutputTokenMs, String finishReason, String error) {
            String promptText = logContent ? command.prompt() : null;
            List<GenerationRecord.Message> messages = logContent && command.chat() != null
                    ? command.chat().stream().map(turn -> new GenerationRecord.Message(turn.role(), turn.content())).toList()
                    : null;
            return new GenerationRecord(command.requestId(), clock.instant(), modelId, prompt, generated,
                    timeToFirstTokenMs, timePerOutputTokenMs, finishReason, error, promptText, messages,
                    completion == null ? null : completion.toString());
        }
    }
}
