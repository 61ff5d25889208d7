package io.sparsemesh.core.attention;

/** The cache one attention layer keeps for one sequence (keys and values, latents, indexer keys). */
public interface LayerCache {

    /** Tokens this cache has room for. */
    int capacity();

    /** Bytes this cache holds on the heap. */
    long byteSize();
}
