package io.sparsemesh.router.openai;

import io.sparsemesh.core.engine.FinishReason;
import io.sparsemesh.core.engine.GenerationHandle;
import io.sparsemesh.core.engine.GenerationStats;
import io.sparsemesh.router.GenerationEvents;
import io.sparsemesh.router.GenerationService;
import io.sparsemesh.router.InvalidRequestException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The {@code n} generations of one request, whose events the scheduler thread puts into one
 * bounded queue that the request's thread takes from.
 *
 * <p>The queue has room for every event the generations can produce: at most {@code max_tokens} tokens
 * and one end per choice. So the scheduler thread never waits for a client and never drops an
 * event. A slow client only makes the queue longer, and the generations finish (and free their
 * caches) at engine speed. The cost is memory of up to the request's whole output per request.
 */
final class CompletionRun {

    /** Something that happened to one choice. */
    sealed interface Event {
        int choice();
    }

    /** A token the choice generated and the text it completes, empty while a UTF-8 character is unfinished. */
    record Token(int choice, int id, String text) implements Event {
    }

    /** The choice ended; {@code text} is the text the decoder still held, possibly empty. */
    record Finished(int choice, FinishReason reason, GenerationStats stats, String text) implements Event {
    }

    record Failed(int choice, Throwable error) implements Event {
    }

    private final BlockingQueue<Event> events;
    private final List<GenerationHandle> handles;
    private final OpenAiMetrics metrics;
    private volatile int[] promptIds = new int[0];

    private CompletionRun(int capacity, int choices, OpenAiMetrics metrics) {
        this.events = new LinkedBlockingQueue<>(capacity);
        this.handles = new ArrayList<>(choices);
        this.metrics = metrics;
    }

    /**
     * Starts the request's generations, choice {@code i} with seed {@code seed + i}. Throws
     * {@link InvalidRequestException} when the engine rejects the request; then none runs.
     */
    static CompletionRun start(GenerationService generations, String requestId, CompletionRequest request,
                               OpenAiMetrics metrics) {
        long perChoice = Math.min(request.maxTokens(), generations.contextLength()) + 1L;
        int capacity = (int) Math.min(Integer.MAX_VALUE, perChoice * request.n());
        CompletionRun run = new CompletionRun(capacity, request.n(), metrics);
        try {
            for (int choice = 0; choice < request.n(); choice++) {
                run.handles.add(generations.start(request.command(requestId, choice), run.new ChoiceEvents(choice)));
            }
        } catch (RuntimeException e) {
            run.cancel();
            throw e;
        }
        return run;
    }

    int promptTokens() {
        return promptIds.length;
    }

    /** The encoded prompt, known once {@link #start} has returned; callers must not change it. */
    int[] promptIds() {
        return promptIds;
    }

    /** Waits up to {@code timeout} for the next event; returns null when none came. */
    Event poll(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Moves every event already queued to {@code sink}. */
    void drainTo(Collection<Event> sink) {
        events.drainTo(sink);
    }

    /** Cancels every choice; the scheduler frees their caches at its next step. */
    void cancel() {
        handles.forEach(GenerationHandle::cancel);
    }

    /** Queues one choice's events; runs on the scheduler thread, so it only enqueues. */
    private final class ChoiceEvents implements GenerationEvents {
        private final int choice;

        ChoiceEvents(int choice) {
            this.choice = choice;
        }

        @Override
        public void started(int[] promptIds) {
            CompletionRun.this.promptIds = promptIds;
        }

        @Override
        public void token(int id, String text) {
            enqueue(new Token(choice, id, text));
        }

        @Override
        public void finished(FinishReason reason, GenerationStats stats, String text) {
            if (reason == FinishReason.CANCELLED) {
                metrics.generationCancelled();
            }
            enqueue(new Finished(choice, reason, stats, text));
        }

        @Override
        public void failed(Throwable error) {
            enqueue(new Failed(choice, error));
        }

        private void enqueue(Event event) {
            if (!events.offer(event)) {
                // GenerationService reports at most max_tokens tokens and one end per generation, so this means that contract broke
                throw new IllegalStateException("the event queue of choice " + choice + " is full ("
                        + events.size() + " events); the generation sent more events than max_tokens allows");
            }
        }
    }
}
