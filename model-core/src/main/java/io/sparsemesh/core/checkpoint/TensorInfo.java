package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor lives: its name as the engine knows it (Hugging Face naming), element type,
 * shape in PyTorch order (outermost first), file and byte range.
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long offset, long byteSize) {

    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
