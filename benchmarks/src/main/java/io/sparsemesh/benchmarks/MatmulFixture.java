package io.sparsemesh.benchmarks;

import io.sparsemesh.core.tensor.DType;
import io.sparsemesh.core.tensor.Matrices;
import io.sparsemesh.core.tensor.Matrix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * A weight matrix of random values in a temporary file, memory-mapped as a checkpoint would be,
 * with a batch of random activations. Quantised blocks get random bytes and a random finite
 * scale, which is a valid block of every ggml type used here.
 */
final class MatmulFixture implements AutoCloseable {

    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Matrix matrix;
    final float[] x;
    final float[] out;
    private final long flopsPerCall;
    private final Arena arena;
    private final Path file;

    MatmulFixture(DType dtype, int rows, int cols, int batch) {
        try {
            file = Files.createTempFile("sparsemesh-bench-" + dtype, ".bin");
            arena = Arena.ofShared();
            long bytes = dtype.bytesFor((long) rows * cols);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                fill(dtype, segment, new SplittableRandom(42));
                matrix = Matrices.mapped(dtype, segment, rows, cols);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not create the benchmark weight file", e);
        }
        SplittableRandom random = new SplittableRandom(7);
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        out = new float[batch * rows];
        flopsPerCall = 2L * rows * cols * batch;
    }

    private static void fill(DType dtype, MemorySegment segment, SplittableRandom random) {
        long size = segment.byteSize();
        switch (dtype) {
            case F32 -> {
                for (long at = 0; at < size; at += 4) {
                    segment.set(F32_LE, at, (float) random.nextDouble(-1, 1));
                }
            }
            case F16 -> {
                for (long at = 0; at < size; at += 2) {
                    segment.set(I16_LE, at, Float.floatToFloat16((float) random.nextDouble(-1, 1)));
                }
            }
            case BF16 -> {
                for (long at = 0; at < size; at += 2) {
                    segment.set(I16_LE, at, (short) (Float.floatToRawIntBits((float) random.nextDouble(-1, 1)) >>> 16));
                }
            }
            default -> {
                for (long at = 0; at < size; at += 8) {
                    segment.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
                }
                int[] scaleOffsets = switch (dtype) {
                    case Q8_0, Q4_0 -> new int[] {0};
                    case Q4_K -> new int[] {0, 2};
                    case Q6_K -> new int[] {208};
                    default -> throw new IllegalArgumentException("no benchmark weights for " + dtype);
                };
                for (long block = 0; block < size; block += dtype.blockBytes()) {
                    for (int scale : scaleOffsets) {
                        segment.set(I16_LE, block + scale, Float.floatToFloat16((float) random.nextDouble(1e-3, 1e-2)));
                    }
                }
            }
        }
    }

    /** Adds one matmul's floating-point operations and weight bytes to {@code work}. */
    void count(Work work) {
        work.flops += flopsPerCall;
        work.bytes += matrix.byteSize();
    }

    @Override
    public void close() throws IOException {
        arena.close();
        Files.deleteIfExists(file);
    }

    /** Parses {@code ROWSxCOLS}. */
    static int[] shape(String text) {
        String[] parts = text.split("x");
        if (parts.length != 2) {
            throw new IllegalArgumentException("invalid shape " + text + "; expected ROWSxCOLS, e.g. 1024x1024");
        }
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    }
}
