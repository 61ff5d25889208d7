package io.sparsemesh.core.layer;

import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.config.YarnScaling;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RopeFrequenciesTest {

    /** The hf-tiny DeepSeek-V3 settings: rope dim 8, theta 1e4, factor 40 over 4096 positions, betas 32/1. */
    private static final YarnScaling TINY_YARN = new YarnScaling(40, 4096, 32, 1, 1, 1);

    @Test
    void plainFrequenciesWithoutYarn() {
        double[] frequencies = RopeFrequencies.inverseFrequencies(new RopeConfig(10000, RopeLayout.NEOX, 8, null));

        assertArrayEquals(new double[] {1, 0.1, 0.01, 0.001}, frequencies, 1e-15);
        assertEquals(1.0, RopeFrequencies.attentionFactor(new RopeConfig(10000, RopeLayout.NEOX, 8, null)));
    }

    @Test
    void yarnBlendsAcrossTheTruncatedRamp() {
        // correction dims 1.309 and 2.814 round to the ramp [1, 3]: dims 0-1 keep their frequency,
        // dim 2 is half-way, dim 3 is divided by 40 (values from transformers' formula in double precision)
        double[] frequencies = RopeFrequencies.inverseFrequencies(new RopeConfig(10000, RopeLayout.INTERLEAVED, 8, TINY_YARN));

        assertArrayEquals(new double[] {1.0, 0.1, 0.005125, 2.5e-05}, frequencies, 1e-15);
    }

    @Test
    void yarnWithoutTruncationUsesFractionalBounds() {
        YarnScaling yarn = new YarnScaling(40, 4096, 32, 1, 1, 1, false);

        double[] frequencies = RopeFrequencies.inverseFrequencies(new RopeConfig(10000, RopeLayout.NEOX, 8, yarn));

        assertArrayEquals(new double[] {1.0, 0.1, 0.005524062977468265, 2.5e-05}, frequencies, 1e-15);
    }

    @Test
    void yarnMatchesDeepSeekFormulation() {
        // DeepSeek's own inference code writes the blend as freqs / factor · (1 - smooth) + freqs · smooth
        int dim = 64;
        double theta = 10000;
        YarnScaling yarn = new YarnScaling(40, 4096, 32, 1, 1, 1);

        double[] frequencies = RopeFrequencies.inverseFrequencies(new RopeConfig(theta, RopeLayout.INTERLEAVED, dim, yarn));

        int low = (int) Math.floor(dim * Math.log(4096 / (32 * 2 * Math.PI)) / (2 * Math.log(theta)));
        int high = (int) Math.ceil(dim * Math.log(4096 / (1 * 2 * Math.PI)) / (2 * Math.log(theta)));
        for (int i = 0; i < dim / 2; i++) {
            double freq = 1.0 / Math.pow(theta, 2.0 * i / dim);
            double smooth = 1 - Math.min(1, Math.max(0, (double) (i - low) / (high - low)));
            double expected = freq / 40 * (1 - smooth) + freq * smooth;
            assertEquals(expected, frequencies[i], expected * 1e-12, "dimension pair " + i);
        }
    }

    @Test
    void attentionFactorFromMscales() {
        double mscale40 = 0.1 * Math.log(40) + 1;

        assertEquals(1.0, RopeFrequencies.attentionFactor(new RopeConfig(1e4, RopeLayout.NEOX, 8, TINY_YARN)), 1e-15);
        assertEquals(mscale40, RopeFrequencies.attentionFactor(
                new RopeConfig(1e4, RopeLayout.NEOX, 8, new YarnScaling(40, 4096, 32, 1, 0, 0))), 1e-15);
        assertEquals(mscale40 / (0.1 * 0.5 * Math.log(40) + 1), RopeFrequencies.attentionFactor(
                new RopeConfig(1e4, RopeLayout.NEOX, 8, new YarnScaling(40, 4096, 32, 1, 1, 0.5))), 1e-15);
    }

    @Test
    void softmaxScaleMultiplierIsMscaleSquared() {
        assertEquals(1.8738542070926265,
                RopeFrequencies.softmaxScaleMultiplier(new RopeConfig(1e4, RopeLayout.INTERLEAVED, 8, TINY_YARN)), 1e-14);
        assertEquals(1.0, RopeFrequencies.softmaxScaleMultiplier(new RopeConfig(1e6, RopeLayout.NEOX, 8, null)));
        assertEquals(1.0, RopeFrequencies.softmaxScaleMultiplier(
                new RopeConfig(1e4, RopeLayout.NEOX, 8, new YarnScaling(40, 4096, 32, 1, 1, 0))));
    }
}
