package io.sparsemesh.core.layer;

import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.YarnScaling;

/**
 * Inverse frequencies and scales of RoPE, plain or YaRN-scaled, computed as Hugging Face
 * transformers 5.x computes them ({@code _compute_yarn_parameters} in {@code modeling_rope_utils.py}).
 *
 * <p>YaRN keeps the fast-rotating dimensions as they are (extrapolation), divides the frequencies
 * of the slow ones by {@code factor} (interpolation), and blends the two over a linear ramp
 * between the dimensions that complete {@code beta_fast} and {@code beta_slow} rotations within
 * the original context length.
 */
public final class RopeFrequencies {

    private static final double DEFAULT_BETA_FAST = 32;
    private static final double DEFAULT_BETA_SLOW = 1;

    private RopeFrequencies() {
    }

    /** {@code 1 / theta^(2i / rotaryDim)} for {@code i < rotaryDim / 2}, then YaRN-blended when configured. */
    static double[] inverseFrequencies(RopeConfig config) {
        int dim = config.rotaryDim();
        double[] frequencies = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) {
            frequencies[i] = 1.0 / Math.pow(config.theta(), (2.0 * i) / dim);
        }
        YarnScaling yarn = config.yarn();
        if (yarn == null) {
            return frequencies;
        }

        // ramp from 0 (keep the frequency) to 1 (divide it by factor) across the correction range
        double betaFast = yarn.betaFast() == 0 ? DEFAULT_BETA_FAST : yarn.betaFast();
        double betaSlow = yarn.betaSlow() == 0 ? DEFAULT_BETA_SLOW : yarn.betaSlow();
        double low = correctionDim(betaFast, dim, config.theta(), yarn.originalMaxPositionEmbeddings());
        double high = correctionDim(betaSlow, dim, config.theta(), yarn.originalMaxPositionEmbeddings());
        if (yarn.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001; // as transformers does, to avoid dividing by zero
        }

        for (int i = 0; i < dim / 2; i++) {
            double ramp = Math.clamp((i - low) / (high - low), 0.0, 1.0);
            double interpolated = frequencies[i] / yarn.factor();
            frequencies[i] = interpolated * ramp + frequencies[i] * (1 - ramp);
        }
        return frequencies;
    }

    /**
     * Scale applied to cos and sin: 1 without YaRN, else {@code mscale(factor, mscale) /
     * mscale(factor, mscale_all_dim)} when both are set, else {@code mscale(factor, 1)}.
     */
    static double attentionFactor(RopeConfig config) {
        YarnScaling yarn = config.yarn();
        if (yarn == null) {
            return 1.0;
        }
        if (yarn.mscale() != 0 && yarn.mscaleAllDim() != 0) {
            return mscale(yarn.factor(), yarn.mscale()) / mscale(yarn.factor(), yarn.mscaleAllDim());
        }
        return mscale(yarn.factor(), 1.0);
    }

    /**
     * Multiplier on MLA's softmax scale {@code qk_head_dim^-0.5}: {@code mscale(factor, mscale_all_dim)²}
     * under YaRN with a non-zero {@code mscale_all_dim}, else 1 (DeepSeek-V3 attention in transformers).
     */
    public static double softmaxScaleMultiplier(RopeConfig config) {
        YarnScaling yarn = config.yarn();
        if (yarn == null || yarn.mscaleAllDim() == 0) {
            return 1.0;
        }
        double mscale = mscale(yarn.factor(), yarn.mscaleAllDim());
        return mscale * mscale;
    }

    /** YaRN's attention temperature term {@code 0.1 · m · ln(scale) + 1}, or 1 when {@code scale ≤ 1}. */
    static double mscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    /** Returns the fractional dimension whose wavelength fits {@code rotations} times into {@code length} positions. */
    private static double correctionDim(double rotations, int dim, double theta, int length) {
        return dim * Math.log(length / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }
}
