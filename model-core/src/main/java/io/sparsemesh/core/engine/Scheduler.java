package io.sparsemesh.core.engine;

import io.sparsemesh.core.sampling.Sampler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching over one {@link Transformer}: requests join and leave the running batch at
 * step boundaries. Each step first gives every decoding sequence its one row, then fills the rest
 * of the token budget with prompt chunks, so long prompts are prefilled over several steps
 * without stalling the sequences that are already generating.
 */
public final class Scheduler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

    private final Transformer model;
    private final EngineOptions options;
    private final Set<Integer> eosTokenIds;
    private final LinkedBlockingQueue<Sequence> waiting = new LinkedBlockingQueue<>();
    private final List<Sequence> running = new ArrayList<>();
    /**
     * Sequence ids start at a random multiple of 2^32, so that several routers sharing an attention
     * replica (which keys caches by sequence id) do not collide, and ids are never reused.
     */
    private final AtomicLong nextSequenceId =
            new AtomicLong(((long) new java.security.SecureRandom().nextInt(1 << 30) << 32) + 1);
    private final Thread stepThread;
    private final StepObserver stepObserver;
    private volatile boolean closed;
    private volatile int runningCount;

    // step buffers, reused across steps and grown when a step is larger than any before
    private long[] stepSequenceIds = new long[0];
    private int[] stepTokens = new int[0];
    private int[] stepPositions = new int[0];
    private int[] logitRows = new int[0];
    private Sequence[] sampledSequences = new Sequence[0];
    private float[] logits = new float[0];

    public Scheduler(Transformer model, EngineOptions options) {
        this(model, options, StepObserver.NONE);
    }

    public Scheduler(Transformer model, EngineOptions options, StepObserver stepObserver) {
        this.model = model;
        this.stepObserver = stepObserver;
        this.options = options;
        this.eosTokenIds = Set.copyOf(model.config().eosTokenIds());
        this.stepThread = Thread.ofPlatform().name("sparsemesh-scheduler").daemon().unstarted(this::runLoop);
        this.stepThread.start();
        log.info("Scheduler started: {} tokens per step, prefill chunks of {}, {} sequences, context {}",
                options.maxStepTokens(), options.maxPrefillChunk(), options.maxSequences(), options.contextLength());
    }

    public EngineOptions options() {
        return options;
    }

    /**
     * Queues a generation. Throws {@link IllegalArgumentException} when the prompt does not leave
     * room for one output token in the context.
     */
    public GenerationHandle submit(GenerationRequest request, GenerationListener listener) {
        if (closed) {
            throw new IllegalStateException("the scheduler is closed");
        }
        int promptLength = request.promptTokens().length;
        if (promptLength >= options.contextLength()) {
            throw new IllegalArgumentException("the prompt has " + promptLength + " tokens, but the context has room for "
                    + options.contextLength() + " tokens in all; shorten the prompt to at most "
                    + (options.contextLength() - 1) + " tokens");
        }
        int vocab = model.config().vocabSize();
        for (int token : request.promptTokens()) {
            if (token < 0 || token >= vocab) {
                throw new IllegalArgumentException("prompt token id " + token + " is outside the vocabulary [0, "
                        + vocab + ")");
            }
        }
        Sequence sequence = new Sequence(nextSequenceId.getAndIncrement(), request, listener, System.nanoTime());
        waiting.add(sequence);
        return sequence;
    }

    /** Sequences in the running batch plus those waiting to join it. */
    public int activeSequences() {
        return waiting.size() + runningCount;
    }

    private void runLoop() {
        while (!closed) {
            try {
                admitWaiting();
                boolean wasRunning = !running.isEmpty();
                dropCancelled();
                if (!running.isEmpty()) {
                    runStep();
                }
                if (wasRunning && running.isEmpty()) {
                    stepObserver.onIdle();
                }
                runningCount = running.size();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        failAll(new IllegalStateException("the scheduler was closed"));
    }

    private void admitWaiting() throws InterruptedException {
        if (running.isEmpty()) {
            Sequence first = waiting.poll(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            running.add(first);
        }
        while (running.size() < options.maxSequences()) {
            Sequence next = waiting.poll();
            if (next == null) {
                break;
            }
            running.add(next);
        }
    }

    private void dropCancelled() {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence sequence = running.get(i);
            if (sequence.cancelled) {
                running.remove(i);
                finish(sequence, FinishReason.CANCELLED);
            }
        }
    }

    /**
     * Builds one step from the running sequences, runs it, and samples where a sequence is ready.
     * When a backend fails for some sequences only, those end with the error and the step runs
     * again without them: caches store by position, so rerunning a step's rows is harmless.
     */
    private void runStep() {
        for (int attempt = 1; !running.isEmpty(); attempt++) {
            try {
                buildAndRunStep();
                return;
            } catch (SequencesFailedException e) {
                log.warn("Step attempt {} failed for sequences {} ({}): {}", attempt,
                        java.util.Arrays.toString(e.sequenceIds()), e.code(), e.getMessage());
                failSequences(e);
            } catch (RuntimeException e) {
                log.error("Forward step failed; ending its {} sequences", running.size(), e);
                failAll(e);
                return;
            }
        }
    }

    private void buildAndRunStep() {
        int budget = options.maxStepTokens();
        int rows = 0;
        int sampled = 0;
        ensureStepCapacity(budget, running.size());

        // decoding sequences first (one row each), then prompt chunks in arrival order
        for (int pass = 0; pass < 2; pass++) {
            for (Sequence sequence : running) {
                boolean decoding = sequence.pendingTokens() == 1 && sequence.prefilled();
                if ((pass == 0) != decoding || budget == 0) {
                    continue;
                }
                int count = Math.min(Math.min(sequence.pendingTokens(), options.maxPrefillChunk()), budget);
                for (int i = 0; i < count; i++) {
                    int position = sequence.cached + i;
                    stepSequenceIds[rows] = sequence.id;
                    stepTokens[rows] = sequence.tokens.get(position);
                    stepPositions[rows] = position;
                    rows++;
                }
                sequence.scheduled = count;
                budget -= count;
                if (sequence.cached + count == sequence.tokens.size()) {
                    logitRows[sampled] = rows - 1;
                    sampledSequences[sampled] = sequence;
                    sampled++;
                }
            }
        }

        int vocab = model.config().vocabSize();
        if (logits.length < sampled * vocab) {
            logits = new float[sampled * vocab];
        }
        long start = System.nanoTime();
        model.step(stepSequenceIds, stepTokens, stepPositions, rows, logitRows, sampled, logits);
        stepObserver.onStep(rows, sampled, running.size(), waiting.size(), System.nanoTime() - start);

        for (Sequence sequence : running) {
            sequence.cached += sequence.scheduled;
            sequence.scheduled = 0;
        }
        for (int i = 0; i < sampled; i++) {
            accept(sampledSequences[i], sampledSequences[i].sampler.sample(logits, i * vocab, vocab));
        }
        running.removeIf(sequence -> sequence.finished);
    }

    private void failSequences(SequencesFailedException error) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence sequence = running.get(i);
            sequence.scheduled = 0;
            if (error.contains(sequence.id)) {
                running.remove(i);
                sequence.finished = true;
                release(sequence);
                try {
                    sequence.listener.onError(error);
                } catch (RuntimeException e) {
                    log.warn("Listener of request {} failed in onError", sequence.request.requestId(), e);
                }
            }
        }
    }

    /** Frees a sequence's caches; a backend that cannot be reached is logged, not rethrown. */
    private void release(Sequence sequence) {
        try {
            model.release(sequence.id);
        } catch (RuntimeException e) {
            log.warn("Failed to release the caches of sequence {} (request {})", sequence.id,
                    sequence.request.requestId(), e);
        }
    }

    /** Delivers a sampled token and decides whether the sequence goes on. */
    private void accept(Sequence sequence, int token) {
        long now = System.nanoTime();
        if (sequence.firstTokenNanos == 0) {
            sequence.firstTokenNanos = now;
        }
        sequence.lastTokenNanos = now;

        var params = sequence.request.params();
        boolean eos = !params.ignoreEos() && eosTokenIds.contains(token);
        if (eos || params.stopTokenIds().contains(token)) {
            finish(sequence, FinishReason.STOP);
            return;
        }

        sequence.generated++;
        boolean goOn;
        try {
            goOn = sequence.listener.onToken(token);
        } catch (RuntimeException e) {
            log.warn("Listener of request {} failed on a token; cancelling it", sequence.request.requestId(), e);
            goOn = false;
            sequence.cancelled = true;
        }
        if (sequence.cancelled) {
            finish(sequence, FinishReason.CANCELLED);
        } else if (!goOn) {
            finish(sequence, FinishReason.STOP);
        } else if (sequence.generated >= params.maxTokens() || sequence.tokens.size() + 1 > options.contextLength()) {
            finish(sequence, FinishReason.LENGTH);
        } else {
            sequence.tokens.add(token);
        }
    }

    private void finish(Sequence sequence, FinishReason reason) {
        sequence.finished = true;
        release(sequence);
        long firstToken = sequence.firstTokenNanos == 0 ? 0 : sequence.firstTokenNanos - sequence.submittedNanos;
        long decode = sequence.firstTokenNanos == 0 ? 0 : sequence.lastTokenNanos - sequence.firstTokenNanos;
        GenerationStats stats = new GenerationStats(sequence.request.promptTokens().length, sequence.generated,
                firstToken, decode);
        try {
            sequence.listener.onFinish(reason, stats);
        } catch (RuntimeException e) {
            log.warn("Listener of request {} failed in onFinish", sequence.request.requestId(), e);
        }
    }

    private void failAll(Throwable error) {
        List<Sequence> failed = new ArrayList<>(running);
        running.clear();
        waiting.drainTo(failed);
        for (Sequence sequence : failed) {
            sequence.finished = true;
            release(sequence);
            try {
                sequence.listener.onError(error);
            } catch (RuntimeException e) {
                log.warn("Listener of request {} failed in onError", sequence.request.requestId(), e);
            }
        }
    }

    private void ensureStepCapacity(int rows, int sequences) {
        if (stepTokens.length < rows) {
            stepSequenceIds = new long[rows];
            stepTokens = new int[rows];
            stepPositions = new int[rows];
        }
        if (logitRows.length < sequences) {
            logitRows = new int[sequences];
            sampledSequences = new Sequence[sequences];
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            stepThread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
        log.info("Scheduler stopped");
    }

    /** One request's state in the scheduler. Fields are touched by the step thread only, except {@code cancelled}. */
    private static final class Sequence implements GenerationHandle {
        final long id;
        final GenerationRequest request;
        final GenerationListener listener;
        final Sampler sampler;
        final List<Integer> tokens = new ArrayList<>();
        final long submittedNanos;
        int cached;
        int scheduled;
        int generated;
        long firstTokenNanos;
        long lastTokenNanos;
        boolean finished;
        volatile boolean cancelled;

        Sequence(long id, GenerationRequest request, GenerationListener listener, long submittedNanos) {
            this.id = id;
            this.request = request;
            this.listener = listener;
            this.sampler = new Sampler(request.params());
            this.submittedNanos = submittedNanos;
            for (int token : request.promptTokens()) {
                tokens.add(token);
            }
        }

        int pendingTokens() {
            return tokens.size() - cached;
        }

        boolean prefilled() {
            return cached >= request.promptTokens().length;
        }

        @Override
        public String requestId() {
            return request.requestId();
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }
}
