package io.sparsemesh.core.mla;

import io.sparsemesh.core.config.MlaConfig;

/**
 * Chooses how MLA attends for the rows of one sequence within a step. The expanded path
 * decompresses keys and values of every cached position once per step with {@code kv_b_proj}
 * (about {@code heads · (nope + v) · kv_lora_rank} multiply-adds per position), then attends as
 * ordinary attention. The absorbed path folds {@code W_UK} into each row's query and {@code W_UV}
 * into its output and attends over the latent directly (about {@code 2 · heads · kv_lora_rank}
 * per row and position). Expanding therefore pays off once a sequence has roughly
 * {@code (nope + v) / 2} rows in the step: prompt chunks expand, decode rows absorb.
 *
 * @param expandedMinRows a sequence with at least this many rows in a step uses the expanded path
 */
public record MlaPathPolicy(int expandedMinRows) {

    public MlaPathPolicy {
        if (expandedMinRows < 1) {
            throw new IllegalArgumentException("expandedMinRows must be at least 1, got " + expandedMinRows);
        }
    }

    /** Returns the cost-based default above, which expands from {@code max(2, (qk_nope_head_dim + v_head_dim) / 2)} rows. */
    public static MlaPathPolicy forDimensions(MlaConfig mla) {
        return new MlaPathPolicy(Math.max(2, (mla.qkNopeHeadDim() + mla.vHeadDim()) / 2));
    }

    /** Returns a policy that sends every row down the absorbed path. */
    public static MlaPathPolicy alwaysAbsorbed() {
        return new MlaPathPolicy(Integer.MAX_VALUE);
    }

    /** Returns a policy that sends every row down the expanded path. */
    public static MlaPathPolicy alwaysExpanded() {
        return new MlaPathPolicy(1);
    }

    public boolean expands(int rowsOfSequence) {
        return rowsOfSequence >= expandedMinRows;
    }
}
