package io.sparsemesh.log;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watch on a real short-lived process started with {@code sleep}. */
class ParentProcessWatchTest {

    @Test
    void completesWhenProcessKilled() throws Exception {
        Process parent = new ProcessBuilder("sleep", "600").start();
        try {
            CompletableFuture<Void> exited = ParentProcessWatch.watch(parent.pid());
            assertFalse(exited.isDone(), "the process is still running");

            parent.destroyForcibly().waitFor();

            // the timeout only keeps a broken watch from hanging the build
            exited.get(60, TimeUnit.SECONDS);
            assertTrue(exited.isDone());
        } finally {
            parent.destroyForcibly();
        }
    }

    @Test
    void completedForExitedProcess() throws Exception {
        Process parent = new ProcessBuilder("true").start();
        parent.waitFor();

        assertTrue(ParentProcessWatch.watch(parent.pid()).isDone());
    }
}
