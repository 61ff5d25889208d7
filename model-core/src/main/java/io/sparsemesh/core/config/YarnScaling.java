package io.sparsemesh.core.config;

/**
 * YaRN context extension parameters as Hugging Face names them in {@code rope_parameters}
 * (or the older {@code rope_scaling}).
 */
public record YarnScaling(
        double factor,
        int originalMaxPositionEmbeddings,
        double betaFast,
        double betaSlow,
        double mscale,
        double mscaleAllDim) {
}
