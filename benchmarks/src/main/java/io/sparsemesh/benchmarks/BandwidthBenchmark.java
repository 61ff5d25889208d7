package io.sparsemesh.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The memory read bandwidth of this machine: a vector sum over a buffer of {@link #BYTES}, far
 * larger than the 32 MiB L3. With two threads each thread streams the whole buffer.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@State(Scope.Benchmark)
public class BandwidthBenchmark {

    static final long BYTES = 512L << 20;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Arena arena;
    private MemorySegment buffer;

    @Setup(Level.Trial)
    public void allocate() {
        arena = Arena.ofShared();
        buffer = arena.allocate(BYTES, 64);
        for (long i = 0; i < BYTES; i += 4) {
            buffer.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (i & 1023) * 1e-3f);
        }
    }

    @TearDown(Level.Trial)
    public void free() {
        arena.close();
    }

    @Benchmark
    @Threads(1)
    public float read1Thread(Work work) {
        work.bytes += BYTES;
        return sum();
    }

    @Benchmark
    @Threads(2)
    public float read2Threads(Work work) {
        work.bytes += BYTES;
        return sum();
    }

    private float sum() {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        long step = F.vectorByteSize();
        for (long at = 0; at < BYTES; at += 4 * step) {
            acc0 = acc0.add(FloatVector.fromMemorySegment(F, buffer, at, ByteOrder.LITTLE_ENDIAN));
            acc1 = acc1.add(FloatVector.fromMemorySegment(F, buffer, at + step, ByteOrder.LITTLE_ENDIAN));
            acc2 = acc2.add(FloatVector.fromMemorySegment(F, buffer, at + 2 * step, ByteOrder.LITTLE_ENDIAN));
            acc3 = acc3.add(FloatVector.fromMemorySegment(F, buffer, at + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return acc0.add(acc1).add(acc2).add(acc3).reduceLanes(VectorOperators.ADD);
    }
}
