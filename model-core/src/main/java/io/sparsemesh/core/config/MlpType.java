package io.sparsemesh.core.config;

/** Channel mixer of one layer: a dense SwiGLU MLP or a mixture of experts. */
public enum MlpType {
    DENSE,
    SPARSE
}
