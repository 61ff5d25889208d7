package io.sparsemesh.core.layer;

import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.RopeLayout;

/**
 * Rotary position embedding over {@code rotaryDim} dimensions, in the interleaved or NeoX
 * pairing. Frequencies are computed once; {@link #rotate} applies them at a position.
 */
public final class Rope {

    private final RopeLayout layout;
    private final int rotaryDim;
    private final double[] inverseFrequencies; // [rotaryDim / 2]
    private final double attentionFactor;

    public Rope(RopeConfig config) {
        this(config.layout(), config.rotaryDim(), RopeFrequencies.inverseFrequencies(config),
                RopeFrequencies.attentionFactor(config));
    }

    public Rope(RopeLayout layout, int rotaryDim, double[] inverseFrequencies, double attentionFactor) {
        if (rotaryDim % 2 != 0 || inverseFrequencies.length != rotaryDim / 2) {
            throw new IllegalArgumentException("rotary dim " + rotaryDim + " needs " + rotaryDim / 2
                    + " frequencies, got " + inverseFrequencies.length);
        }
        this.layout = layout;
        this.rotaryDim = rotaryDim;
        this.inverseFrequencies = inverseFrequencies;
        this.attentionFactor = attentionFactor;
    }

    public int rotaryDim() {
        return rotaryDim;
    }

    public RopeLayout layout() {
        return layout;
    }

    /** Rotates {@code v[offset .. offset + rotaryDim)} in place to encode {@code position}. */
    public void rotate(float[] v, int offset, int position) {
        int half = rotaryDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * inverseFrequencies[i];
            float cos = (float) (Math.cos(angle) * attentionFactor);
            float sin = (float) (Math.sin(angle) * attentionFactor);
            int a = layout == RopeLayout.INTERLEAVED ? offset + 2 * i : offset + i;
            int b = layout == RopeLayout.INTERLEAVED ? a + 1 : a + half;
            float x0 = v[a];
            float x1 = v[b];
            v[a] = x0 * cos - x1 * sin;
            v[b] = x0 * sin + x1 * cos;
        }
    }
}
