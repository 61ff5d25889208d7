package io.sparsemesh.core.tensor;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel implementation of this JVM, chosen once when the first matrix needs it and logged.
 * The system property {@value #PROPERTY} selects it: {@code auto} (default), {@code vector} or
 * {@code scalar}.
 */
enum KernelBackend {

    /** Java Vector API kernels, one class per stored type. */
    VECTOR,

    /** The scalar loops of {@link Kernels}: correct everywhere and much slower, for JVMs without the Vector API. */
    SCALAR;

    static final String PROPERTY = "sparsemesh.kernels";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    private static final Logger LOG = LoggerFactory.getLogger(KernelBackend.class);

    /** Returns the backend of this JVM; the first call chooses it and logs the choice. */
    static KernelBackend current() {
        return Selected.BACKEND;
    }

    private static final class Selected {
        static final KernelBackend BACKEND = select();
    }

    private static KernelBackend select() {
        String requested = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        boolean moduleLoaded = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
        KernelBackend chosen = switch (requested) {
            case "scalar" -> SCALAR;
            case "vector" -> {
                if (!moduleLoaded) {
                    throw new IllegalStateException(PROPERTY + "=vector needs the Vector API: start the JVM with"
                            + " --add-modules " + VECTOR_MODULE);
                }
                yield VECTOR;
            }
            case "auto" -> moduleLoaded && Lanes.useful() ? VECTOR : SCALAR;
            default -> throw new IllegalArgumentException("invalid " + PROPERTY + "=" + requested
                    + "; expected auto, vector or scalar");
        };
        log(chosen, requested, moduleLoaded);
        return chosen;
    }

    private static void log(KernelBackend chosen, String requested, boolean moduleLoaded) {
        KernelPool pool = KernelPool.shared();
        if (chosen == VECTOR) {
            LOG.info("Kernels: Vector API, {}-bit vectors ({} float lanes), {} threads, parallel from {} multiply-adds",
                    Lanes.FLOATS.vectorBitSize(), Lanes.FLOATS.length(), pool.parallelism(), pool.minParallelWork());
        } else if (requested.equals("scalar")) {
            LOG.info("Kernels: scalar loops ({}=scalar), {} threads, parallel from {} multiply-adds",
                    PROPERTY, pool.parallelism(), pool.minParallelWork());
        } else if (!moduleLoaded) {
            LOG.warn("Kernels: scalar loops, much slower, because module {} is not loaded."
                    + " Start the JVM with --add-modules {} to use the Vector API", VECTOR_MODULE, VECTOR_MODULE);
        } else {
            LOG.warn("Kernels: scalar loops, because this CPU's preferred vectors hold only {} floats",
                    jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length());
        }
    }
}
