package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;

import java.util.Arrays;

/**
 * One tensor info of a GGUF file as stored: its llama.cpp name, dimensions innermost first
 * ({@code ne[0]} is the row length), ggml type id and offset relative to the data section.
 */
public record GgufTensor(String name, long[] ggufDims, int ggmlType, long relativeOffset) {

    /** Returns the shape in PyTorch order (outermost first), the reverse of {@link #ggufDims()}. */
    public long[] shape() {
        long[] shape = new long[ggufDims.length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = ggufDims[ggufDims.length - 1 - i];
        }
        return shape;
    }

    public long elementCount() {
        long count = 1;
        for (long dim : ggufDims) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    /** Returns the element type, or null when this reader does not support {@link #ggmlType()}. */
    public DType dtype() {
        return GgmlType.dtypeOf(ggmlType);
    }

    public String ggmlTypeName() {
        return GgmlType.nameOf(ggmlType);
    }

    @Override
    public String toString() {
        return name + " " + ggmlTypeName() + Arrays.toString(shape()) + " @" + relativeOffset;
    }
}
