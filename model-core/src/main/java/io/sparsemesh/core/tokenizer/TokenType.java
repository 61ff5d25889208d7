package io.sparsemesh.core.tokenizer;

/**
 * The kind of a SentencePiece vocabulary entry. The codes are SentencePiece's
 * {@code ModelProto.SentencePiece.Type} values, which GGUF's {@code tokenizer.ggml.token_type}
 * array reuses (llama.cpp's {@code llama_token_type}).
 */
public enum TokenType {
    /** GGUF's type 0. llama.cpp encodes such pieces like normal ones but decodes them to nothing. */
    UNDEFINED(0),
    NORMAL(1),
    UNKNOWN(2),
    /** BOS, EOS and other markers that never come from text and decode to nothing. */
    CONTROL(3),
    /** Pieces matched whole in the input before merging, such as chat markers. */
    USER_DEFINED(4),
    UNUSED(5),
    /** Byte-fallback pieces {@code <0x00>} to {@code <0xFF>}. */
    BYTE(6);

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Returns the type with SentencePiece/GGUF code {@code code}. */
    public static TokenType fromCode(int code) {
        for (TokenType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown token type code " + code
                + "; expected 0 (undefined) to 6 (byte)");
    }
}
