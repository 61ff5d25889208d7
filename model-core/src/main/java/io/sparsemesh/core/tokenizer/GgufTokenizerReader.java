package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufFile;

import java.util.Arrays;

/**
 * Builds a tokenizer from the {@code tokenizer.ggml.*} metadata of a GGUF file, for the SentencePiece
 * vocabulary type ({@code tokenizer.ggml.model = "llama"}).
 *
 * <p>Keys read: {@code tokens} (required), {@code scores} and {@code token_type} (all 0 and all
 * normal when absent), {@code bos_token_id}, {@code eos_token_id} and {@code unknown_token_id}
 * (1, 2 and 0 when absent, as llama.cpp defaults for this type), {@code add_bos_token} and
 * {@code add_space_prefix} (both true when absent). An id of 0xFFFFFFFF means "none".
 */
public final class GgufTokenizerReader {

    public static final String MODEL_KEY = "tokenizer.ggml.model";
    public static final String TOKENS_KEY = "tokenizer.ggml.tokens";
    public static final String SCORES_KEY = "tokenizer.ggml.scores";
    public static final String TOKEN_TYPE_KEY = "tokenizer.ggml.token_type";
    public static final String BOS_ID_KEY = "tokenizer.ggml.bos_token_id";
    public static final String EOS_ID_KEY = "tokenizer.ggml.eos_token_id";
    public static final String UNKNOWN_ID_KEY = "tokenizer.ggml.unknown_token_id";
    public static final String ADD_BOS_KEY = "tokenizer.ggml.add_bos_token";
    public static final String ADD_SPACE_PREFIX_KEY = "tokenizer.ggml.add_space_prefix";

    /** GGUF stores a missing special id as uint32 -1. */
    private static final long NO_ID = 0xFFFFFFFFL;

    private GgufTokenizerReader() {
    }

    /**
     * Reads the tokenizer stored in {@code gguf}'s metadata.
     *
     * @throws CheckpointException when the metadata has no tokenizer, a tokenizer of another type,
     *     or arrays of different lengths
     */
    public static SentencePieceTokenizer read(GgufFile gguf) {
        String model = gguf.getString(MODEL_KEY, null);
        if (model == null) {
            throw new CheckpointException("GGUF file " + gguf.path() + " has no tokenizer (no '" + MODEL_KEY
                    + "' key); pass a tokenizer file separately");
        }
        if (!model.equals("llama")) {
            throw new CheckpointException("GGUF file " + gguf.path() + " has tokenizer type '" + model
                    + "'; only 'llama' (SentencePiece BPE) is supported from GGUF metadata; for other types"
                    + " open the model's Hugging Face tokenizer.json instead");
        }

        String[] pieces = gguf.getStringArray(TOKENS_KEY);
        float[] scores = gguf.contains(SCORES_KEY) ? gguf.getFloatArray(SCORES_KEY) : new float[pieces.length];
        TokenType[] types = readTypes(gguf, pieces.length);
        checkLength(gguf, SCORES_KEY, scores.length, pieces.length);

        int bosId = specialId(gguf, BOS_ID_KEY, 1, pieces.length);
        int eosId = specialId(gguf, EOS_ID_KEY, 2, pieces.length);
        int unknownId = specialId(gguf, UNKNOWN_ID_KEY, 0, pieces.length);
        SentencePieceOptions options = new SentencePieceOptions(gguf.getBoolean(ADD_BOS_KEY, true),
                gguf.getBoolean(ADD_SPACE_PREFIX_KEY, true), false);
        try {
            return new SentencePieceTokenizer(new SentencePieceVocabulary(pieces, scores, types, bosId, eosId, unknownId),
                    options);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("GGUF file " + gguf.path() + ": invalid tokenizer: " + e.getMessage(), e);
        }
    }

    private static TokenType[] readTypes(GgufFile gguf, int count) {
        TokenType[] types = new TokenType[count];
        if (!gguf.contains(TOKEN_TYPE_KEY)) {
            Arrays.fill(types, TokenType.NORMAL);
            return types;
        }
        int[] codes = gguf.getIntArray(TOKEN_TYPE_KEY);
        checkLength(gguf, TOKEN_TYPE_KEY, codes.length, count);
        for (int id = 0; id < count; id++) {
            try {
                types[id] = TokenType.fromCode(codes[id]);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException("GGUF file " + gguf.path() + ": '" + TOKEN_TYPE_KEY + "' of token "
                        + id + ": " + e.getMessage(), e);
            }
        }
        return types;
    }

    private static void checkLength(GgufFile gguf, String key, int length, int tokenCount) {
        if (length != tokenCount) {
            throw new CheckpointException("GGUF file " + gguf.path() + ": '" + key + "' has " + length
                    + " entries but '" + TOKENS_KEY + "' has " + tokenCount);
        }
    }

    /** Returns the id under {@code key}, {@code defaultId} when absent, or -1 for GGUF's "none". */
    private static int specialId(GgufFile gguf, String key, int defaultId, int tokenCount) {
        if (!gguf.contains(key)) {
            return defaultId < tokenCount ? defaultId : -1;
        }
        long id = gguf.getLong(key);
        if (id == NO_ID || id == -1) {
            return -1;
        }
        if (id < 0 || id >= tokenCount) {
            throw new CheckpointException("GGUF file " + gguf.path() + ": '" + key + "' is " + id
                    + ", outside the " + tokenCount + " tokens of '" + TOKENS_KEY + "'");
        }
        return (int) id;
    }
}
