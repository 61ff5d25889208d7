package io.sparsemesh.router;

import java.util.List;

/**
 * Text to token ids and back for the served model: the checkpoint's tokenizer in this process,
 * or the tokenizer service.
 */
public interface TextCodec {

    /** Encodes a prompt, adding BOS when the model's tokenizer adds it by default. */
    int[] encodePrompt(String text);

    /** Renders chat messages with the model's chat template, ready to generate the assistant's turn, and encodes them. */
    int[] encodeChat(List<ChatTurn> messages);

    /** Returns whether this codec turns text into ids and back, which a model without a tokenizer cannot. */
    default boolean hasTokenizer() {
        return true;
    }

    /** Starts incremental decoding of one sequence. */
    Decoder newDecoder();

    /** One chat message. */
    record ChatTurn(String role, String content) {
    }

    /** Incremental decoder of one sequence; never returns a split UTF-8 character. */
    interface Decoder {

        /** Adds a token and returns the text it completes (possibly empty). */
        String push(int token);

        /** Returns the text still held back and ends the sequence. */
        String finish();
    }
}
