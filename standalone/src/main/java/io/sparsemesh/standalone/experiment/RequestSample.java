package io.sparsemesh.standalone.experiment;

/**
 * Timings of one request, in nanoseconds since the start of the measured window.
 *
 * @param firstToken when the first generated token arrived, or -1 when none did
 * @param error      why the request failed, or null
 */
public record RequestSample(long start, long firstToken, long end, int outputTokens, String error) {

    public boolean ok() {
        return error == null;
    }

    /** Time to first token in ms. */
    public double ttftMillis() {
        return (firstToken - start) / 1e6;
    }

    /** Mean time per output token after the first, in ms, or NaN for a single token. */
    public double tpotMillis() {
        return outputTokens < 2 ? Double.NaN : (end - firstToken) / 1e6 / (outputTokens - 1);
    }
}
