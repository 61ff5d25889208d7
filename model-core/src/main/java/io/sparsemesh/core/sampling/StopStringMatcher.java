package io.sparsemesh.core.sampling;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could still turn out to be the start of a stop
 * string is held back until the next chunk decides it, so no part of a stop string is ever emitted.
 */
public final class StopStringMatcher {

    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    public StopStringMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds {@code chunk} and returns the text that can be emitted now (empty once a stop string matched). */
    public String push(String chunk) {
        if (stopped) {
            return "";
        }
        held.append(chunk);

        int earliest = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String out = held.substring(0, earliest);
            held.setLength(0);
            return out;
        }

        int keep = longestSuffixThatStartsAStop();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Returns what is still held back (no stop string matched) and clears it. */
    public String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }

    public boolean stopped() {
        return stopped;
    }

    private int longestSuffixThatStartsAStop() {
        int longest = 0;
        String text = held.toString();
        for (String stop : stops) {
            for (int length = Math.min(stop.length() - 1, text.length()); length > longest; length--) {
                if (text.regionMatches(text.length() - length, stop, 0, length)) {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
