package io.sparsemesh.core.checkpoint;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Finds the tensor names closest to a missing one, for error messages. */
final class SimilarNames {

    private static final int MAX_SUGGESTIONS = 5;

    private SimilarNames() {
    }

    /** Returns up to five names of {@code candidates} by increasing edit distance to {@code name}. */
    static List<String> closestTo(String name, Collection<String> candidates) {
        int limit = Math.max(3, name.length() / 3);
        record Scored(String name, int distance) {
        }
        return candidates.stream()
                .map(candidate -> new Scored(candidate, editDistance(name, candidate, limit)))
                .filter(scored -> scored.distance() <= limit)
                .sorted(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name))
                .limit(MAX_SUGGESTIONS)
                .map(Scored::name)
                .toList();
    }

    /** Levenshtein distance of {@code a} and {@code b}, or {@code limit + 1} once it must exceed {@code limit}. */
    static int editDistance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) > limit) {
            return limit + 1;
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
