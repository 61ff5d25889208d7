package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a llama2.c tokenizer file ({@code tok*.bin}, written by llama2.c's {@code tokenizer.py export}).
 *
 * <p>Layout, little-endian: int32 max token length, then for each token float32 score, int32
 * byte length and that many UTF-8 bytes. The file has no token count and no types: the count is
 * whatever fills the file, and the types are inferred as llama.cpp's llama2.c converter does. Id 0
 * is {@code <unk>}, ids 1 and 2 are BOS and EOS (written as {@code "\n<s>\n"} and {@code "\n</s>\n"}),
 * {@code <0xXX>} pieces are bytes, empty pieces are control tokens, and all others are normal with
 * their spaces written back as {@code ▁}.
 */
public final class Llama2cTokenizerReader {

    static final int UNKNOWN_ID = 0;
    static final int BOS_ID = 1;
    static final int EOS_ID = 2;

    private Llama2cTokenizerReader() {
    }

    /** Reads the vocabulary in {@code path}; throws {@link CheckpointException} when the file is truncated or malformed. */
    public static SentencePieceVocabulary read(Path path) {
        byte[] file;
        try {
            file = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new CheckpointException("cannot read llama2.c tokenizer " + path + ": " + e.getMessage(), e);
        }
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) {
            throw new CheckpointException("llama2.c tokenizer " + path + " has " + file.length
                    + " bytes, too few for its header (int32 max token length)");
        }
        int maxTokenLength = in.getInt();
        if (maxTokenLength <= 0) {
            throw new CheckpointException("llama2.c tokenizer " + path + " starts with max token length "
                    + maxTokenLength + ", expected a positive number: is this a tok*.bin file?");
        }

        List<String> texts = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining()) {
            int id = texts.size();
            if (in.remaining() < 8) {
                throw truncated(path, id, in.position());
            }
            float score = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new CheckpointException("llama2.c tokenizer " + path + ": token " + id + " at byte "
                        + (in.position() - 4) + " has length " + length + ", but " + in.remaining()
                        + " bytes remain: the file is truncated or not a llama2.c tokenizer");
            }
            byte[] text = new byte[length];
            in.get(text);
            texts.add(utf8(path, id, text));
            scores.add(score);
        }
        return toVocabulary(path, texts, scores);
    }

    private static CheckpointException truncated(Path path, int id, int offset) {
        return new CheckpointException("llama2.c tokenizer " + path + " ends inside token " + id
                + " at byte " + offset + ": the file is truncated");
    }

    private static String utf8(Path path, int id, byte[] text) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(text))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException("llama2.c tokenizer " + path + ": token " + id
                    + " is not valid UTF-8: " + e.getMessage(), e);
        }
    }

    private static SentencePieceVocabulary toVocabulary(Path path, List<String> texts, List<Float> scoreList) {
        int size = texts.size();
        if (size <= EOS_ID) {
            throw new CheckpointException("llama2.c tokenizer " + path + " has " + size
                    + " tokens; expected at least <unk>, <s> and </s>");
        }
        String[] pieces = new String[size];
        float[] scores = new float[size];
        TokenType[] types = new TokenType[size];
        for (int id = 0; id < size; id++) {
            String text = texts.get(id);
            scores[id] = scoreList.get(id);
            if (id == UNKNOWN_ID) {
                pieces[id] = "<unk>";
                types[id] = TokenType.UNKNOWN;
            } else if (id == BOS_ID) {
                pieces[id] = "<s>";
                types[id] = TokenType.CONTROL;
            } else if (id == EOS_ID) {
                pieces[id] = "</s>";
                types[id] = TokenType.CONTROL;
            } else if (text.isEmpty()) {
                pieces[id] = text;
                types[id] = TokenType.CONTROL;
            } else if (SentencePieceVocabulary.isBytePiece(text)) {
                pieces[id] = text;
                types[id] = TokenType.BYTE;
            } else {
                pieces[id] = text.replace(' ', SentencePieceVocabulary.SPACE_SYMBOL);
                types[id] = TokenType.NORMAL;
            }
        }
        try {
            return new SentencePieceVocabulary(pieces, scores, types, BOS_ID, EOS_ID, UNKNOWN_ID);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("llama2.c tokenizer " + path + ": " + e.getMessage(), e);
        }
    }
}
