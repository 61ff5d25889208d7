package io.sparsemesh.router;

import java.util.List;

/**
 * The codec of a checkpoint that ships no tokenizer: prompts must come as token ids, and
 * generated tokens are reported as ids with empty text.
 */
final class IdsOnlyTextCodec implements TextCodec {

    private static final Decoder NO_TEXT = new Decoder() {
        @Override
        public String push(int token) {
            return "";
        }

        @Override
        public String finish() {
            return "";
        }
    };

    @Override
    public boolean hasTokenizer() {
        return false;
    }

    @Override
    public int[] encodePrompt(String text) {
        throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "prompt",
                "this model has no tokenizer, so prompts must be token ids; send prompt as an array of integers");
    }

    @Override
    public int[] encodeChat(List<ChatTurn> messages) {
        throw new InvalidRequestException(InvalidRequestException.Kind.INVALID, "messages",
                "this model has no tokenizer, so chat messages cannot be encoded; use /v1/completions with token ids");
    }

    @Override
    public Decoder newDecoder() {
        return NO_TEXT;
    }
}
