package io.sparsemesh.core.config;

/** Whether a sparse-attention layer runs its own lightning indexer or reuses an earlier layer's top-k. */
public enum IndexerType {
    FULL,
    SHARED
}
