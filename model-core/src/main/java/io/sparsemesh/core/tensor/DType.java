package io.sparsemesh.core.tensor;

/**
 * Element types of checkpoint tensors. Block types store {@link #blockSize()} elements in
 * {@link #blockBytes()} bytes; plain types have a block of one element.
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** OCP FP8 E4M3 (finite-only, bias 7), as DeepSeek-V3 stores its weights. */
    F8_E4M3(1, 1),
    I32(1, 4),
    I64(1, 8),
    /** GGML Q8_0: per 32 elements one F16 scale and 32 signed bytes. */
    Q8_0(32, 34),
    /** GGML Q4_0: per 32 elements one F16 scale and 16 bytes of 4-bit values offset by 8. */
    Q4_0(32, 18),
    /** GGML Q4_K: super-blocks of 256 elements with 6-bit sub-block scales and minimums. */
    Q4_K(256, 144),
    /** GGML Q6_K: super-blocks of 256 elements with 8-bit sub-block scales. */
    Q6_K(256, 210);

    private final int blockSize;
    private final int blockBytes;

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int blockSize() {
        return blockSize;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /** Returns the bytes that {@code elements} values of this type occupy; {@code elements} must be whole blocks. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    elements + " elements are not a whole number of " + this + " blocks of " + blockSize);
        }
        return elements / blockSize * blockBytes;
    }
}
