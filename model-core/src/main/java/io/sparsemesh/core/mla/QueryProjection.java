package io.sparsemesh.core.mla;

import io.sparsemesh.core.layer.RmsNorm;
import io.sparsemesh.core.tensor.Matrix;

/**
 * The projection from normalised hidden rows to MLA's per-head queries: either the low-rank
 * path {@code q_b_proj(q_a_layernorm(q_a_proj(x)))} when {@code q_lora_rank > 0}, or the single
 * projection {@code q_proj(x)} when it is 0 (DeepSeek-V2-Lite).
 */
sealed interface QueryProjection {

    /** Size of the query latent the lightning indexer reads, or 0 when there is none. */
    int latentDim();

    long byteSize();

    /**
     * Projects {@code rows} rows of {@code input} into {@code queries} ({@code rows × heads·qk_head_dim}),
     * leaving the normalised query latent ({@code rows × latentDim}) in {@code latent}.
     */
    void project(float[] input, int rows, float[] latent, float[] queries);

    /** The low-rank query path; the latent after {@code q_a_layernorm} is what the indexer's queries start from. */
    record LowRank(Matrix qAProj, RmsNorm qALayernorm, Matrix qBProj) implements QueryProjection {

        @Override
        public int latentDim() {
            return qAProj.rows();
        }

        @Override
        public long byteSize() {
            return qAProj.byteSize() + qBProj.byteSize() + 4L * qALayernorm.dim();
        }

        @Override
        public void project(float[] input, int rows, float[] latent, float[] queries) {
            qAProj.matmul(input, latent, rows);
            qALayernorm.forward(latent, latent, rows);
            qBProj.matmul(latent, queries, rows);
        }
    }

    /** A single query projection without a latent. */
    record Direct(Matrix qProj) implements QueryProjection {

        @Override
        public int latentDim() {
            return 0;
        }

        @Override
        public long byteSize() {
            return qProj.byteSize();
        }

        @Override
        public void project(float[] input, int rows, float[] latent, float[] queries) {
            qProj.matmul(input, queries, rows);
        }
    }
}
