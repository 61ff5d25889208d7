package io.sparsemesh.core.config;

/**
 * Multi-head latent attention dimensions, with the Hugging Face field names in camel case.
 *
 * @param qLoraRank     rank of the query's low-rank path, or 0 when queries project directly
 * @param kvLoraRank    size of the cached latent {@code c_kv}
 * @param qkNopeHeadDim per-head query/key dimensions without RoPE
 * @param qkRopeHeadDim per-head query/key dimensions with RoPE (the key part is shared by all heads)
 * @param vHeadDim      per-head value dimensions
 */
public record MlaConfig(int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim) {

    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }
}
