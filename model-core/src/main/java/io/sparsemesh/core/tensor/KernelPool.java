package io.sparsemesh.core.tensor;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits the output rows of a large matmul across the cores. The calling thread computes a share
 * itself, so a pool of parallelism {@code p} starts {@code p - 1} daemon worker threads, once.
 * One matmul at a time uses the pool, and a call that finds it busy runs on its own thread.
 *
 * <p>A call allocates nothing: the job lives in fields of the pool, and participants claim
 * chunks of rows from {@link #cursor}, which stores the job's generation in its high 32 bits and
 * the next chunk in its low 32 bits. A worker that wakes after its job has finished reads a
 * different generation and claims nothing.
 */
final class KernelPool {

    static final String THREADS_PROPERTY = "sparsemesh.kernels.threads";
    static final String MIN_WORK_PROPERTY = "sparsemesh.kernels.parallel-min-work";

    /**
     * Smallest {@code rows × cols × batch} worth splitting. A split costs a wake-up of about 20 µs
     * when the worker has parked, and some microseconds of hand-off even when it still spins.
     * {@code ParallelSplitBenchmark} (F32, two vCPUs of a shared Zen 4 guest) found no gain from
     * splitting 0.26 to 0.5 M multiply-adds (25 to 55 µs on one thread), and 1.7 to 2.3 times the
     * speed from 1 to 2 M (a 1024x1024 matvec, or 512x512 with 8 x rows).
     */
    static final long DEFAULT_MIN_PARALLEL_WORK = 1L << 20;

    /** Chunks per participant: several, so a thread that starts late or is preempted leaves little idle time. */
    private static final int CHUNKS_PER_THREAD = 4;

    /**
     * How long an idle worker spins before it parks. Matmuls of one forward pass follow each other
     * within a few microseconds, and a spinning worker joins the next one in well under 1 µs
     * instead of the 20 µs of a wake-up.
     */
    private static final long SPIN_NANOS = 50_000;

    private final int parallelism;
    private final long minParallelWork;
    private final Worker[] workers;

    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLong cursor = new AtomicLong();
    private final AtomicInteger finishedChunks = new AtomicInteger();
    private volatile Throwable failure;

    // The current job. Only the caller that set `busy` writes these fields, before it publishes a
    // new generation in `cursor`. Participants read them after claiming a chunk of that generation.
    private AbstractMatrix matrix;
    private float[] x;
    private int xOffset;
    private float[] out;
    private int outOffset;
    private int batch;
    private int rows;
    private int rowsPerChunk;
    private int chunkCount;

    KernelPool(int parallelism, long minParallelWork) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("kernel parallelism must be at least 1, got " + parallelism);
        }
        this.parallelism = parallelism;
        this.minParallelWork = minParallelWork;
        this.workers = new Worker[parallelism - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("sparsemesh-kernel-" + (i + 1));
            workers[i].thread.start();
        }
    }

    /** Returns the pool of this JVM, sized by {@value #THREADS_PROPERTY} (default: available processors). */
    static KernelPool shared() {
        return Shared.POOL;
    }

    private static final class Shared {
        static final KernelPool POOL = new KernelPool(
                Integer.getInteger(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors()),
                Long.getLong(MIN_WORK_PROPERTY, DEFAULT_MIN_PARALLEL_WORK));
    }

    int parallelism() {
        return parallelism;
    }

    long minParallelWork() {
        return minParallelWork;
    }

    /** Returns whether worker threads may read {@code segment}. A confined arena's segment is readable by its owner only. */
    boolean canShare(MemorySegment segment) {
        return workers.length == 0 || segment.isAccessibleBy(workers[0].thread);
    }

    /** Computes all {@code rows} output rows of {@code matrix}, split across threads when the work is large enough. */
    void matmul(AbstractMatrix matrix, int rows, long work, float[] x, int xOffset, float[] out, int outOffset, int batch) {
        if (workers.length == 0 || rows < 2 || work < minParallelWork || !busy.compareAndSet(false, true)) {
            matrix.matmulRows(x, xOffset, out, outOffset, batch, 0, rows);
            return;
        }
        try {
            long generation = publish(matrix, rows, x, xOffset, out, outOffset, batch);
            for (Worker worker : workers) {
                worker.wake();
            }
            runChunks(generation);
            awaitChunks();
            Throwable thrown = failure;
            if (thrown != null) {
                failure = null;
                throw new IllegalStateException("matmul of " + matrix + " failed in a kernel thread: " + thrown, thrown);
            }
        } finally {
            this.matrix = null;
            this.x = null;
            this.out = null;
            busy.set(false);
        }
    }

    private long publish(AbstractMatrix matrix, int rows, float[] x, int xOffset, float[] out, int outOffset, int batch) {
        this.matrix = matrix;
        this.x = x;
        this.xOffset = xOffset;
        this.out = out;
        this.outOffset = outOffset;
        this.batch = batch;
        this.rows = rows;
        this.chunkCount = Math.min(rows, parallelism * CHUNKS_PER_THREAD);
        this.rowsPerChunk = (rows + chunkCount - 1) / chunkCount;
        this.chunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk;
        finishedChunks.set(0);
        long generation = (cursor.get() >>> 32) + 1;
        cursor.set(generation << 32);
        return generation;
    }

    /** Claims and computes chunks of job {@code generation} until none is left. */
    private void runChunks(long generation) {
        while (true) {
            long claim = cursor.get();
            if (claim >>> 32 != generation || (int) claim >= chunkCount) {
                return;
            }
            if (!cursor.compareAndSet(claim, claim + 1)) {
                continue;
            }
            int fromRow = (int) claim * rowsPerChunk;
            int toRow = Math.min(rows, fromRow + rowsPerChunk);
            try {
                matrix.matmulRows(x, xOffset, out, outOffset, batch, fromRow, toRow);
            } catch (Throwable t) {
                failure = t;
            } finally {
                finishedChunks.incrementAndGet();
            }
        }
    }

    /** Waits for the chunks that workers still compute. Chunks are short, so the caller spins before it yields. */
    private void awaitChunks() {
        int spins = 0;
        while (finishedChunks.get() < chunkCount) {
            if (++spins < 10_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private final class Worker implements Runnable {

        final Thread thread;
        private volatile boolean parked;

        Worker(String name) {
            thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
        }

        void wake() {
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            long seen = cursor.get() >>> 32;
            while (true) {
                long generation = awaitGeneration(seen);
                runChunks(generation);
                seen = generation;
            }
        }

        /** Spins, then parks, until a job newer than {@code seen} is published, and returns its generation. */
        private long awaitGeneration(long seen) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                long generation = cursor.get() >>> 32;
                if (generation != seen) {
                    return generation;
                }
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                // A caller writes `cursor`, then reads `parked`. This worker writes `parked`, then
                // reads `cursor`. Both are volatile, so at least one of them reads the other's write
                // and no wake-up is lost.
                parked = true;
                if (cursor.get() >>> 32 == seen) {
                    LockSupport.park(this);
                }
                parked = false;
                Thread.interrupted();
            }
        }
    }
}
