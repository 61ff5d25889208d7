package io.sparsemesh.transport.attention;

import io.grpc.Status;
import io.sparsemesh.protocol.v1.AttentionResponse;

/**
 * The response slot of one request on a replica's stream: completed by the stream's response
 * observer, awaited by the step thread. A step reuses its slots, and it does so only after every
 * slot it used has completed or failed.
 */
final class PendingResponse {

    private long stepId;
    private int layer;
    private boolean done;
    private AttentionResponse response;
    private Status failure;

    synchronized void start(long stepId, int layer) {
        this.stepId = stepId;
        this.layer = layer;
        this.done = false;
        this.response = null;
        this.failure = null;
    }

    synchronized long stepId() {
        return stepId;
    }

    synchronized int layer() {
        return layer;
    }

    synchronized void complete(AttentionResponse value) {
        if (!done) {
            response = value;
            done = true;
            notifyAll();
        }
    }

    synchronized void fail(Status status) {
        if (!done) {
            failure = status;
            done = true;
            notifyAll();
        }
    }

    /** Waits until the slot completes or {@code deadlineNanos} (a {@link System#nanoTime} value) passes; returns whether it completed. */
    synchronized boolean await(long deadlineNanos) throws InterruptedException {
        while (!done) {
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            wait(Math.max(1, remaining / 1_000_000), 0);
        }
        return true;
    }

    /** Returns the response, or null when the slot failed. */
    synchronized AttentionResponse response() {
        return response;
    }

    /** Returns the status the slot failed with, or null when it has a response. */
    synchronized Status failure() {
        return failure;
    }
}
