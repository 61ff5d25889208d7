package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A compiled matmul allocates nothing. A vector that the JIT fails to keep in registers is boxed
 * on the heap, so this also catches kernels that stopped compiling to vector code. Rounds of
 * calls run until one allocates nothing, which takes some seconds of JIT compilation; the test
 * fails if none does within {@link #GIVE_UP_NANOS}.
 */
class MatmulAllocationTest {

    private static final long GIVE_UP_NANOS = 60_000_000_000L;

    static java.util.stream.Stream<DType> dtypes() {
        return MatrixKernelTest.dtypes();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void compiledMatmulAllocatesNothing(DType dtype) {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM cannot count allocated bytes per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 32;
        int cols = 512;
        Matrix matrix = Matrices.mapped(dtype, TestWeights.random(dtype, rows, cols, 41, Arena.ofAuto()), rows, cols);

        for (int batch : new int[] {1, 3, 4, 9}) {
            float[] x = TestWeights.activations(batch * cols, 42);
            float[] out = new float[batch * rows];
            long allocated = Long.MAX_VALUE;
            long giveUp = System.nanoTime() + GIVE_UP_NANOS;
            while (allocated > 0 && System.nanoTime() < giveUp) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int call = 0; call < 2_000; call++) {
                    matrix.matmul(x, out, batch);
                }
                allocated = threads.getCurrentThreadAllocatedBytes() - before;
            }

            assertEquals(0, allocated, dtype + " matmul with batch " + batch + " still allocates after JIT warm-up");
        }
    }
}
