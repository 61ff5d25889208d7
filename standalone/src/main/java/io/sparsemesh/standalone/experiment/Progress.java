package io.sparsemesh.standalone.experiment;

import java.io.PrintStream;

/**
 * A progress bar on stderr: runs done out of the total, the point being measured, and an estimate
 * of the time left from the mean duration of the runs measured so far in this invocation.
 */
final class Progress {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final int total;
    private int done;
    private int measuredHere;
    private long measuredNanos;

    Progress(PrintStream out, int total, int alreadyDone) {
        this.out = out;
        this.total = total;
        this.done = alreadyDone;
    }

    void starting(String activity) {
        out.println(line(activity));
    }

    void finished(long nanos) {
        done++;
        measuredHere++;
        measuredNanos += nanos;
    }

    String line(String activity) {
        int filled = total == 0 ? WIDTH : done * WIDTH / total;
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        String eta = measuredHere == 0 ? "estimating" : "~" + duration((long) ((double) measuredNanos / measuredHere * (total - done))) + " left";
        return "[%s] %d/%d %s | %s".formatted(bar, done, total, eta, activity);
    }

    static String duration(long nanos) {
        long seconds = nanos / 1_000_000_000L;
        return seconds >= 60 ? "%dm%02ds".formatted(seconds / 60, seconds % 60) : seconds + "s";
    }
}
