package io.sparsemesh.core.checkpoint;

/** File formats {@link Checkpoints#open} reads. */
public enum CheckpointFormat {
    /** llama.cpp's single-file format, versions 2 and 3. */
    GGUF,
    /** Karpathy's llama2.c {@code .bin} (legacy export, version 0). */
    LLAMA2C,
    /** A Hugging Face folder ({@code config.json} and safetensors shards) or one safetensors file beside a {@code config.json}. */
    SAFETENSORS
}
