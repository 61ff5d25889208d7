package io.sparsemesh.core.tensor;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Float buffers that matmul calls borrow for decoded weights and tile accumulators, so a call
 * allocates nothing once the pool is warm. Buffers are taken from and returned to a fixed set of
 * slots with atomic swaps. A call that finds every slot empty allocates a buffer, and a buffer
 * returned when every slot is full is dropped.
 */
final class ScratchPool {

    /** Floats of decoded weights in one panel: 64 KiB, a sixteenth of a 1 MiB L2; {@link FloatTiles#panelRows} fits panels to it. */
    static final int PANEL_FLOATS = 16 * 1024;
    /** Floats of a 2x4 tile's accumulators: eight vectors of at most 16 lanes (512 bits). */
    static final int PARTIALS_FLOATS = 8 * 16;

    private static final AtomicReferenceArray<Scratch> SLOTS =
            new AtomicReferenceArray<>(2 * Runtime.getRuntime().availableProcessors() + 2);

    /** One borrower's buffers. */
    static final class Scratch {
        final float[] panel = new float[PANEL_FLOATS];
        final float[] partials = new float[PARTIALS_FLOATS];
    }

    private ScratchPool() {
    }

    static Scratch take() {
        for (int i = 0; i < SLOTS.length(); i++) {
            Scratch scratch = SLOTS.get(i);
            if (scratch != null && SLOTS.compareAndSet(i, scratch, null)) {
                return scratch;
            }
        }
        return new Scratch();
    }

    static void give(Scratch scratch) {
        for (int i = 0; i < SLOTS.length(); i++) {
            if (SLOTS.compareAndSet(i, null, scratch)) {
                return;
            }
        }
    }
}
