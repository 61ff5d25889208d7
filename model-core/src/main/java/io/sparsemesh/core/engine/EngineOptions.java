package io.sparsemesh.core.engine;

/**
 * Scheduler limits.
 *
 * @param maxStepTokens   rows one forward step may hold (decode rows plus prompt chunks): the token budget per step
 * @param maxPrefillChunk prompt tokens of one sequence per step at most
 * @param maxSequences    sequences in the running batch at most; further requests wait
 * @param contextLength   tokens a sequence may hold (prompt plus output)
 */
public record EngineOptions(int maxStepTokens, int maxPrefillChunk, int maxSequences, int contextLength) {

    public EngineOptions {
        requirePositive("maxStepTokens", maxStepTokens);
        requirePositive("maxPrefillChunk", maxPrefillChunk);
        requirePositive("maxSequences", maxSequences);
        requirePositive("contextLength", contextLength);
        if (maxStepTokens < maxSequences) {
            throw new IllegalArgumentException("maxStepTokens (" + maxStepTokens + ") must be >= maxSequences ("
                    + maxSequences + ") so that every running sequence can decode in each step");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }

    public static EngineOptions defaults(int contextLength) {
        return new EngineOptions(512, 256, 64, contextLength);
    }
}
