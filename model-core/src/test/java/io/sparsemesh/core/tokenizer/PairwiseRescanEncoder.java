package io.sparsemesh.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A slow reference encoder written the way llama2.c's {@code encode} works, independent of
 * {@link SentencePieceBpe}: characters without a piece become byte tokens first, then the
 * adjacent pair with the best merged score (leftmost on ties) is merged, rescanning all pairs
 * after every merge. Applies Llama's dummy prefix; no BOS.
 */
final class PairwiseRescanEncoder {

    private PairwiseRescanEncoder() {
    }

    static int[] encode(SentencePieceVocabulary vocabulary, String text) {
        List<Integer> ids = new ArrayList<>();
        if (text.isEmpty()) {
            return new int[0];
        }
        String escaped = (" " + text).replace(' ', '▁');
        escaped.codePoints().forEach(codePoint -> {
            String character = Character.toString(codePoint);
            int id = vocabulary.id(character);
            if (id >= 0) {
                ids.add(id);
            } else {
                for (byte b : character.getBytes(StandardCharsets.UTF_8)) {
                    ids.add(vocabulary.byteId(b & 0xFF));
                }
            }
        });

        while (true) {
            float bestScore = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestIndex = -1;
            for (int i = 0; i + 1 < ids.size(); i++) {
                int merged = vocabulary.id(vocabulary.piece(ids.get(i)) + vocabulary.piece(ids.get(i + 1)));
                if (merged >= 0 && vocabulary.score(merged) > bestScore) {
                    bestScore = vocabulary.score(merged);
                    bestId = merged;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) {
                break;
            }
            ids.set(bestIndex, bestId);
            ids.remove(bestIndex + 1);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
