package io.sparsemesh.standalone.experiment;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A sweep read from a plan file: the model, the axes whose cross product gives the points, and
 * the workload each point is driven with.
 *
 * @param name           name of the experiment, used in the report's title
 * @param model          checkpoint every point serves
 * @param repetitions    measured repetitions of each point; each repetition starts its own mesh
 * @param warmupRequests requests sent and discarded before the measured ones, for the JIT
 * @param requests       measured requests per point and repetition
 * @param baseline       whether to also measure the single-process engine at each load
 * @param quality        whether to measure the logit difference and perplexity change of each
 *                       index-sharing and top-k variant against the model's own config
 */
public record ExperimentPlan(String name, Path model, int repetitions, int warmupRequests, int requests,
                             boolean baseline, boolean quality, Axes axes, Workload workload) {

    /**
     * The swept values. A null entry in {@code indexFullEvery} or {@code indexTopk} keeps the
     * model's own setting.
     *
     * @param indexFullEvery one layer in every N runs its own lightning indexer, the others reuse
     *                       its top-k positions (1: every layer full)
     * @param pingPong       values of the router property {@code sparsemesh.router.ping-pong}, which
     *                       splits each step into two micro-batches whose hops overlap
     * @param load           clients for a closed-loop workload, requests per second for an open one
     */
    public record Axes(List<Integer> shards, List<Integer> replicas, List<Integer> attentionReplicas,
                       List<String> wireDtype, List<Integer> indexFullEvery, List<Integer> indexTopk,
                       List<Boolean> pingPong, List<Double> load, List<Integer> promptTokens,
                       List<Integer> outputTokens) {
    }

    /** How requests arrive: a fixed number of clients each sending the next request when one ends, or Poisson arrivals. */
    public enum Arrival { CLOSED, OPEN }

    /**
     * Where prompts come from.
     *
     * @param corpus text file whose tokens make up the synthetic prompts, and the prompts of replayed
     *               records that carry no prompt text
     * @param replay recorded requests to send instead of synthetic ones; null for synthetic prompts
     */
    public record Workload(Arrival arrival, Path corpus, Replay replay) {
    }

    /**
     * Records of the {@code sparsemesh.generations} topic to replay, from exactly one of a JSONL
     * export and the live topic. Each record becomes one request with the record's prompt (text or
     * chat messages, encoded for the plan's model) that generates its {@code completion_tokens}.
     *
     * @param file          JSONL export, one record per line; null when reading Kafka
     * @param kafka         the topic to read; null when reading a file
     * @param withoutPrompt what to do with records that carry no prompt text
     */
    public record Replay(Path file, KafkaTopic kafka, WithoutPrompt withoutPrompt) {
    }

    /**
     * The topic a replay reads with a Kafka consumer that commits nothing.
     *
     * @param bootstrapServers {@code host:port[,host:port…]}
     * @param maxRecords       records to read at most; default the plan's {@code requests}
     * @param from             which end of the topic those records come from
     * @param properties       further consumer properties, such as TLS or SASL settings
     */
    public record KafkaTopic(String bootstrapServers, String topic, int maxRecords, From from,
                             Map<String, String> properties) {
    }

    /** The oldest records of each partition, or the newest. */
    public enum From { EARLIEST, LATEST }

    /**
     * Handling of replayed records without prompt text, which the router writes while content
     * logging ({@code sparsemesh.router.log.content-enabled}) is off or the prompt was sent as ids.
     */
    public enum WithoutPrompt {
        /** Replay the recorded prompt and completion lengths with a prompt cut from the corpus. */
        LENGTHS,
        /** Leave the record out, counted in the report. */
        SKIP,
        /** Stop before anything starts. */
        FAIL
    }
}
