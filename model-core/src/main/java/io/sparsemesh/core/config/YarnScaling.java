package io.sparsemesh.core.config;

/**
 * YaRN context extension parameters as Hugging Face names them in {@code rope_parameters}
 * (or the older {@code rope_scaling}). A missing {@code mscale} or {@code mscale_all_dim} is 0.
 *
 * @param truncate whether the ramp bounds between interpolated and extrapolated frequencies are
 *                 rounded to whole dimensions ({@code truncate}, true unless the config sets it to false)
 */
public record YarnScaling(
        double factor,
        int originalMaxPositionEmbeddings,
        double betaFast,
        double betaSlow,
        double mscale,
        double mscaleAllDim,
        boolean truncate) {

    /** Parameters of a config without a {@code truncate} entry, which means true. */
    public YarnScaling(double factor, int originalMaxPositionEmbeddings, double betaFast, double betaSlow,
                       double mscale, double mscaleAllDim) {
        this(factor, originalMaxPositionEmbeddings, betaFast, betaSlow, mscale, mscaleAllDim, true);
    }
}
