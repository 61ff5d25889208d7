package io.sparsemesh.standalone;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;

/**
 * The resources {@code serve} has started so far, closed in reverse order by its shutdown hook. The hook is
 * installed before anything starts, so SIGTERM or Ctrl-C during start-up also stops the services
 * already running and deletes the Kafka data. Thread-safe: a resource added after the hook ran is
 * closed at once.
 */
final class ShutdownSteps implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ShutdownSteps.class);

    private record Step(String description, AutoCloseable resource) {
    }

    private final Deque<Step> steps = new ArrayDeque<>(); // guarded by this
    private boolean stopping;                            // guarded by this
    private final CountDownLatch done = new CountDownLatch(1);

    /**
     * Adds {@code resource} to close on shutdown, before the resources added earlier.
     *
     * @throws IllegalStateException when shutdown has begun; {@code resource} is closed by then
     */
    void add(String description, AutoCloseable resource) {
        synchronized (this) {
            if (!stopping) {
                steps.push(new Step(description, resource));
                return;
            }
        }
        close(new Step(description, resource));
        throw new IllegalStateException("serve is stopping; closed " + description + " at once");
    }

    /** Closes every added resource, the last added first, and logs those that fail to close. */
    @Override
    public void run() {
        while (true) {
            Step step;
            synchronized (this) {
                stopping = true;
                step = steps.poll();
            }
            if (step == null) {
                break;
            }
            close(step);
        }
        done.countDown();
    }

    /** Waits until {@link #run} has closed every resource. */
    void awaitStopped() throws InterruptedException {
        done.await();
    }

    private static void close(Step step) {
        try {
            step.resource().close();
        } catch (Exception e) {
            log.error("Failed to stop {} cleanly", step.description(), e);
        }
    }
}
