package io.sparsemesh.core.config;

/** How a MoE gate turns router logits into expert scores ({@code scoring_func}). */
public enum ScoringFunction {
    SOFTMAX,
    SIGMOID
}
