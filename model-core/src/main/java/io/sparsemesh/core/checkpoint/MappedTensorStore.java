package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;
import io.sparsemesh.core.tensor.FloatMatrix;
import io.sparsemesh.core.tensor.Matrices;
import io.sparsemesh.core.tensor.Matrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TensorStore} over tensors that lie in byte ranges of files. Each tensor a caller
 * requests is mapped alone ({@code FileChannel.map(READ_ONLY, offset, size, arena)}), so the bytes
 * of unrequested tensors are never read, and files over 2 GiB work. Subclasses only list the
 * tensors: format readers fill {@link #tensors} in their constructor.
 *
 * <p>FP8 E4M3 weights are dequantised with the {@code <name>_scale_inv} tensor beside them: every
 * {@code blockSize × blockSize} block of the weight is multiplied by one F32 scale, as
 * DeepSeek-V3 stores them ({@code weight_scale_inv} of shape {@code [⌈rows/128⌉, ⌈cols/128⌉]}).
 */
public abstract class MappedTensorStore implements TensorStore {

    private static final Logger log = LoggerFactory.getLogger(MappedTensorStore.class);

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Suffix of the tensor that holds the block scales of an FP8 weight. */
    public static final String FP8_SCALE_SUFFIX = "_scale_inv";
    public static final int DEFAULT_FP8_BLOCK = 128;

    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    /** Tensor name → why it cannot be read (an unsupported type). */
    private final Map<String, String> unreadable = new LinkedHashMap<>();
    private final Set<String> names = new LinkedHashSet<>();

    private final Path location;
    private final int fp8BlockSize;
    private final Arena arena = Arena.ofShared();
    private final Map<Path, FileChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, MemorySegment> segments = new ConcurrentHashMap<>();
    private final AtomicLong mappedBytes = new AtomicLong();
    private volatile boolean closed;

    protected MappedTensorStore(Path location, int fp8BlockSize) {
        this.location = location;
        this.fp8BlockSize = fp8BlockSize;
    }

    /** Lists {@code info} under its name; a second tensor of the same name is an error. */
    protected final void add(TensorInfo info) {
        addName(info.name(), info.file());
        tensors.put(info.name(), info);
    }

    /** Lists tensor {@code name} of {@code file}, whose every request fails with {@code reason}. */
    protected final void addUnreadable(String name, Path file, String reason) {
        addName(name, file);
        unreadable.put(name, reason);
    }

    /** Lists a name whose tensor a subclass builds itself (it must override {@link #info} and {@link #matrix}). */
    protected final void addName(String name, Path file) {
        if (!names.add(name)) {
            throw new CheckpointException("tensor '" + name + "' is listed twice in " + location + " (again in " + file
                    + "); a checkpoint must name each tensor once");
        }
    }

    /** Returns the file tensor {@code name}, or null when it is not a plain file range. */
    protected final TensorInfo listed(String name) {
        return tensors.get(name);
    }

    @Override
    public Path location() {
        return location;
    }

    @Override
    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(names);
    }

    @Override
    public boolean contains(String name) {
        return names.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info != null) {
            return info;
        }
        String reason = unreadable.get(name);
        throw reason != null ? new CheckpointException(reason) : missing(name);
    }

    @Override
    public Matrix matrix(String name, int rows, int cols) {
        TensorInfo info = info(name);
        checkShape(info, new long[] {rows, cols});
        return switch (info.dtype()) {
            case F8_E4M3 -> dequantiseFp8(info, rows, cols);
            case I32, I64 -> throw new CheckpointException("tensor '" + name + "' in " + info.file() + " is "
                    + info.dtype() + ", an integer type, not a weight matrix");
            default -> mapped(info, rows, cols);
        };
    }

    private Matrix mapped(TensorInfo info, int rows, int cols) {
        try {
            return Matrices.mapped(info.dtype(), segment(info), rows, cols);
        } catch (UnsupportedOperationException e) {
            throw new CheckpointException("tensor '" + info.name() + "' in " + info.file() + " is " + info.dtype()
                    + ", which the matrix kernels cannot read yet: " + e.getMessage(), e);
        }
    }

    @Override
    public float[] vector(String name, int length) {
        TensorInfo info = info(name);
        checkShape(info, new long[] {length});
        MemorySegment segment = segment(info);
        return switch (info.dtype()) {
            case F32, F16, BF16, Q8_0, Q4_0 -> Matrices.toFloats(info.dtype(), segment, length);
            case I32 -> {
                float[] out = new float[length];
                for (int i = 0; i < length; i++) {
                    out[i] = segment.get(I32_LE, 4L * i);
                }
                yield out;
            }
            case I64 -> {
                float[] out = new float[length];
                for (int i = 0; i < length; i++) {
                    out[i] = segment.get(I64_LE, 8L * i);
                }
                yield out;
            }
            case F8_E4M3 -> {
                float[] out = new float[length];
                for (int i = 0; i < length; i++) {
                    out[i] = Fp8E4M3.toFloat(segment.get(ValueLayout.JAVA_BYTE, i));
                }
                yield out;
            }
            case Q4_K, Q6_K -> throw new CheckpointException("tensor '" + name + "' in " + info.file() + " is a "
                    + info.dtype() + " vector; this reader decodes vectors of F32, F16, BF16, Q8_0, Q4_0, FP8 and integers");
        };
    }

    /** Returns the mapped bytes of tensor {@code info}, mapping them on first use. */
    protected MemorySegment segment(TensorInfo info) {
        if (closed) {
            throw new IllegalStateException("tensor store " + location + " is closed; tensor '" + info.name()
                    + "' can no longer be mapped");
        }
        return segments.computeIfAbsent(info.name(), name -> map(info));
    }

    private MemorySegment map(TensorInfo info) {
        FileChannel channel = channels.computeIfAbsent(info.file(), MappedTensorStore::openChannel);
        try {
            long size = channel.size();
            if (info.offset() < 0 || info.offset() + info.byteSize() > size) {
                throw new CheckpointException("tensor '" + info.name() + "' needs bytes " + info.offset() + " to "
                        + (info.offset() + info.byteSize()) + " of " + info.file() + ", which has " + size
                        + " bytes; the file is truncated");
            }
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, info.offset(), info.byteSize(), arena);
            mappedBytes.addAndGet(info.byteSize());
            return segment;
        } catch (IOException e) {
            throw new CheckpointException("failed to map tensor '" + info.name() + "' (" + info.byteSize()
                    + " bytes at offset " + info.offset() + ") of " + info.file() + ": " + e.getMessage(), e);
        }
    }

    private static FileChannel openChannel(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException("cannot open checkpoint file " + file + ": " + e.getMessage(), e);
        }
    }

    private Matrix dequantiseFp8(TensorInfo info, int rows, int cols) {
        String scaleName = info.name() + FP8_SCALE_SUFFIX;
        if (!tensors.containsKey(scaleName)) {
            throw new CheckpointException("FP8 tensor '" + info.name() + "' in " + info.file() + " has no block scales '"
                    + scaleName + "'; FP8 weights need their F32 " + FP8_SCALE_SUFFIX + " tensor");
        }
        TensorInfo scaleInfo = info(scaleName);
        int scaleRows = ceilDiv(rows, fp8BlockSize);
        int scaleCols = ceilDiv(cols, fp8BlockSize);
        if (scaleInfo.dtype() != DType.F32) {
            throw new CheckpointException("block scales '" + scaleName + "' in " + scaleInfo.file() + " are "
                    + scaleInfo.dtype() + "; expected F32");
        }
        checkShape(scaleInfo, new long[] {scaleRows, scaleCols});

        MemorySegment weights = segment(info);
        MemorySegment scales = segment(scaleInfo);
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            long scaleRow = (long) (r / fp8BlockSize) * scaleCols;
            for (int c = 0; c < cols; c++) {
                float scale = scales.get(F32_LE, 4L * (scaleRow + c / fp8BlockSize));
                long index = (long) r * cols + c;
                out[(int) index] = Fp8E4M3.toFloat(weights.get(ValueLayout.JAVA_BYTE, index)) * scale;
            }
        }
        return new FloatMatrix(out, rows, cols);
    }

    /** Fails unless {@code info} has exactly the shape {@code expected}. */
    protected static void checkShape(TensorInfo info, long[] expected) {
        if (!Arrays.equals(info.shape(), expected)) {
            throw new CheckpointException("tensor '" + info.name() + "' in " + info.file() + " has shape "
                    + info.shapeString() + " but the model config expects " + Arrays.toString(expected)
                    + "; the checkpoint and its config disagree");
        }
    }

    /** Returns the error for a tensor that is not in this store, naming the closest names it has. */
    protected CheckpointException missing(String name) {
        return new CheckpointException("tensor '" + name + "' not found in " + location
                + "; closest names: " + SimilarNames.closestTo(name, names));
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public long mappedBytes() {
        return mappedBytes.get();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        segments.clear();
        arena.close();
        for (FileChannel channel : channels.values()) {
            try {
                channel.close();
            } catch (IOException e) {
                log.warn("Failed to close {} of tensor store {}: {}", channel, location, e.toString());
            }
        }
        log.debug("Closed tensor store {} after mapping {} bytes", location, mappedBytes.get());
    }
}
