package io.sparsemesh.core.tiny;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random tensors under Hugging Face names, kept as floats until a {@link TinyCheckpoint}
 * writes them in some storage type. The same seed and the same sequence of calls give the same
 * values, so one set of weights can be written as F32, BF16 and FP8.
 */
final class TinyTensors {

    /** One tensor: PyTorch shape and row-major values. */
    record Tensor(String name, long[] shape, float[] values) {

        int rows() {
            return (int) shape[0];
        }

        int cols() {
            return shape.length == 1 ? 1 : (int) shape[1];
        }
    }

    private final Random random;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    TinyTensors(long seed) {
        this.random = new Random(seed);
    }

    /** Adds a tensor of independent N(0, std²) values. */
    void gaussian(String name, double std, long... shape) {
        float[] values = new float[Math.toIntExact(count(shape))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        add(new Tensor(name, shape.clone(), values));
    }

    /** Adds a norm weight of {@code length} values near 1: {@code 1 + N(0, 0.1²)}. */
    void norm(String name, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (1 + 0.1 * random.nextGaussian());
        }
        add(new Tensor(name, new long[] {length}, values));
    }

    Map<String, Tensor> all() {
        return Collections.unmodifiableMap(tensors);
    }

    Tensor get(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' was generated");
        }
        return tensor;
    }

    private void add(Tensor tensor) {
        if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' was generated twice");
        }
    }

    private static long count(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }
}
