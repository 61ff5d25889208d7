package io.sparsemesh.core.testing;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.TensorInfo;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.tensor.DType;
import io.sparsemesh.core.tensor.FloatMatrix;
import io.sparsemesh.core.tensor.Matrix;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A tensor store held in memory, for tests that build layers from weights they generate. It
 * checks shapes like a file-backed store and records which tensors were loaded.
 */
public final class HeapTensorStore implements TensorStore {

    private record Tensor(float[] data, long[] shape) {
    }

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Set<String> loaded = new LinkedHashSet<>();

    public void put(String name, float[] data, long... shape) {
        if (Arrays.stream(shape).reduce(1, (a, b) -> a * b) != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not hold "
                    + data.length + " values");
        }
        tensors.put(name, new Tensor(data, shape));
    }

    /** Returns the row-major values of tensor {@code name}, which naive reference code reads. */
    public float[] floats(String name) {
        return tensor(name).data();
    }

    public void remove(String name) {
        tensors.remove(name);
    }

    /** Names passed to {@link #matrix} or {@link #vector} so far. */
    public Set<String> loadedNames() {
        return Collections.unmodifiableSet(loaded);
    }

    @Override
    public Path location() {
        return Path.of("heap");
    }

    @Override
    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        Tensor tensor = tensor(name);
        return new TensorInfo(name, DType.F32, tensor.shape().clone(), location(), 0, 4L * tensor.data().length);
    }

    @Override
    public Matrix matrix(String name, int rows, int cols) {
        Tensor tensor = tensor(name);
        if (!Arrays.equals(tensor.shape(), new long[] {rows, cols})) {
            throw new CheckpointException("tensor " + name + " has shape " + Arrays.toString(tensor.shape())
                    + ", expected [" + rows + ", " + cols + "]");
        }
        loaded.add(name);
        return new FloatMatrix(tensor.data(), rows, cols);
    }

    @Override
    public float[] vector(String name, int length) {
        Tensor tensor = tensor(name);
        if (!Arrays.equals(tensor.shape(), new long[] {length})) {
            throw new CheckpointException("tensor " + name + " has shape " + Arrays.toString(tensor.shape())
                    + ", expected [" + length + "]");
        }
        loaded.add(name);
        return tensor.data().clone();
    }

    @Override
    public long mappedBytes() {
        return 0;
    }

    @Override
    public void close() {
    }

    private Tensor tensor(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new CheckpointException("tensor " + name + " not found in the heap store");
        }
        return tensor;
    }
}
