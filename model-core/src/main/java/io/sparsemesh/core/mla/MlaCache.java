package io.sparsemesh.core.mla;

import io.sparsemesh.core.attention.LayerCache;

/**
 * The cache of one MLA layer for one sequence, per token: the compressed latent {@code c_kv}
 * ({@code kv_lora_rank} floats, after {@code kv_a_layernorm}), the RoPE key shared by all heads
 * ({@code qk_rope_head_dim} floats, already rotated), and, for layers that run a lightning
 * indexer, the indexer's key ({@code index_head_dim} floats).
 */
public final class MlaCache implements LayerCache {

    private final int capacity;
    private final TokenRows latents;
    private final TokenRows ropeKeys;
    private final TokenRows indexerKeys; // null when the layer runs no indexer

    MlaCache(int kvLoraRank, int ropeDim, int indexerKeyDim, int capacity) {
        this.capacity = capacity;
        this.latents = new TokenRows(kvLoraRank, capacity);
        this.ropeKeys = new TokenRows(ropeDim, capacity);
        this.indexerKeys = indexerKeyDim > 0 ? new TokenRows(indexerKeyDim, capacity) : null;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long byteSize() {
        return latents.byteSize() + ropeKeys.byteSize() + (indexerKeys == null ? 0 : indexerKeys.byteSize());
    }

    TokenRows latents() {
        return latents;
    }

    TokenRows ropeKeys() {
        return ropeKeys;
    }

    TokenRows indexerKeys() {
        if (indexerKeys == null) {
            throw new IllegalStateException("this MLA cache has no indexer keys: its layer runs no lightning indexer");
        }
        return indexerKeys;
    }
}
