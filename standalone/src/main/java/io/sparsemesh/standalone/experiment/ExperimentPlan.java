package io.sparsemesh.standalone.experiment;

import java.nio.file.Path;
import java.util.List;

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
     * @param load           clients for a closed-loop workload, requests per second for an open one
     */
    public record Axes(List<Integer> shards, List<Integer> replicas, List<Integer> attentionReplicas,
                       List<String> wireDtype, List<Integer> indexFullEvery, List<Integer> indexTopk,
                       List<Double> load, List<Integer> promptTokens, List<Integer> outputTokens) {
    }

    /** How requests arrive: a fixed number of clients each sending the next request when one ends, or Poisson arrivals. */
    public enum Arrival { CLOSED, OPEN }

    /**
     * Where prompts come from.
     *
     * @param corpus text file whose tokens make up the synthetic prompts
     * @param replay JSONL export of the {@code sparsemesh.generations} topic whose prompt and
     *               completion lengths are replayed; null for synthetic prompts
     */
    public record Workload(Arrival arrival, Path corpus, Path replay) {
    }
}
