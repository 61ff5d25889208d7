package io.sparsemesh.core.moe;

/**
 * The gate's decision for a batch of rows: row {@code r} goes to experts
 * {@code expertIds[r·k .. r·k + k)} with weights {@code weights[r·k .. r·k + k)}, where
 * {@code k = expertsPerToken}, best expert first. Weights already include normalisation and
 * {@code routed_scaling_factor}. The arrays may be longer than {@code rows · k} (scratch reused
 * across steps); entries past that are ignored.
 */
public record ExpertRouting(int rows, int expertsPerToken, int[] expertIds, float[] weights) {

    public ExpertRouting {
        if (rows < 0 || expertsPerToken < 1) {
            throw new IllegalArgumentException("invalid routing shape: " + rows + " rows, " + expertsPerToken
                    + " experts per token");
        }
        long entries = (long) rows * expertsPerToken;
        if (expertIds.length < entries || weights.length < entries) {
            throw new IllegalArgumentException(rows + " rows × " + expertsPerToken + " experts need " + entries
                    + " entries, got " + expertIds.length + " expert ids and " + weights.length + " weights");
        }
    }

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
