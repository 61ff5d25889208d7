package io.sparsemesh.core.layer;

import io.sparsemesh.core.config.RopeConfig;

/** Inverse frequencies and the cos/sin scale of RoPE, plain or YaRN-scaled. */
final class RopeFrequencies {

    private RopeFrequencies() {
    }

    /** {@code 1 / theta^(2i / rotaryDim)} for {@code i < rotaryDim / 2}, then YaRN-blended when configured. */
    static double[] inverseFrequencies(RopeConfig config) {
        int half = config.rotaryDim() / 2;
        double[] frequencies = new double[half];
        for (int i = 0; i < half; i++) {
            frequencies[i] = 1.0 / Math.pow(config.theta(), (2.0 * i) / config.rotaryDim());
        }
        // TODO: YaRN blending of interpolated and extrapolated frequencies.
        return frequencies;
    }

    /** Scale applied to cos and sin (1 without YaRN). */
    static double attentionFactor(RopeConfig config) {
        return 1.0;
    }
}
