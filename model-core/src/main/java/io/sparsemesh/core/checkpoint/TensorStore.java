package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.Matrix;

import java.nio.file.Path;
import java.util.Set;

/**
 * The tensors of one checkpoint, under Hugging Face names ({@code model.layers.3.self_attn.q_a_proj.weight})
 * whatever the file format. Loading is selective: only the byte ranges of tensors a caller asks
 * for are mapped, so a component that owns one layer range or one set of experts never reads
 * the bytes of the others.
 *
 * <p>Errors name the tensor and the file: a missing tensor is a {@link CheckpointException}, and
 * so is a shape that disagrees with what the caller expects.
 */
public interface TensorStore extends AutoCloseable {

    /** The file or folder this store reads. */
    Path location();

    Set<String> tensorNames();

    boolean contains(String name);

    /** Returns where tensor {@code name} lives, or throws {@link CheckpointException} when it is missing. */
    TensorInfo info(String name);

    /**
     * Maps tensor {@code name} as a {@code rows × cols} matrix (PyTorch shape {@code [rows, cols]}),
     * checking the shape. FP8 tensors are dequantised with their {@code weight_scale_inv} blocks.
     */
    Matrix matrix(String name, int rows, int cols);

    /** Reads a one-dimensional tensor of {@code length} values as floats, checking the length. */
    float[] vector(String name, int length);

    /** Bytes mapped or read so far by this store, for the memory metrics of services. */
    long mappedBytes();

    /** Unmaps every file this store mapped; matrices obtained from it must not be used afterwards. */
    @Override
    void close();
}
