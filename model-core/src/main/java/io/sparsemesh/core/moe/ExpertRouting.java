package io.sparsemesh.core.moe;

/**
 * The gate's decision for a batch of rows: row {@code r} goes to experts
 * {@code expertIds[r·k .. r·k + k)} with weights {@code weights[r·k .. r·k + k)}, where
 * {@code k = expertsPerToken}. Weights already include normalisation and {@code routed_scaling_factor}.
 */
public record ExpertRouting(int rows, int expertsPerToken, int[] expertIds, float[] weights) {

    public static ExpertRouting allocate(int maxRows, int expertsPerToken) {
        return new ExpertRouting(maxRows, expertsPerToken, new int[maxRows * expertsPerToken],
                new float[maxRows * expertsPerToken]);
    }

    public int expert(int row, int slot) {
        return expertIds[row * expertsPerToken + slot];
    }

    public float weight(int row, int slot) {
        return weights[row * expertsPerToken + slot];
    }
}
