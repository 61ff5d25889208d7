package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a SentencePiece {@code tokenizer.model}: a serialized {@code ModelProto} (sentencepiece_model.proto).
 *
 * <p>Fields read: {@code pieces} (1: piece 1, score 2, type 3), {@code trainer_spec} (2: model_type 3,
 * treat_whitespace_as_suffix 24, byte_fallback 35, unk_id 40, bos_id 41, eos_id 42) and
 * {@code normalizer_spec} (3: name 1, precompiled_charsmap 2, add_dummy_prefix 3,
 * remove_extra_whitespaces 4, escape_whitespaces 5). Absent fields take the proto's defaults.
 * Only BPE models with escaped whitespace are accepted. A normalization rule other than identity
 * is not applied, as in llama.cpp, and a warning is logged.
 */
public final class SentencePieceModelReader {

    private static final Logger log = LoggerFactory.getLogger(SentencePieceModelReader.class);

    private static final int MODEL_TYPE_UNIGRAM = 1;
    private static final int MODEL_TYPE_BPE = 2;
    private static final String[] MODEL_TYPE_NAMES = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};

    private SentencePieceModelReader() {
    }

    /** Settings from {@code trainer_spec} and {@code normalizer_spec}, with the proto's defaults. */
    private static final class Specs {
        int modelType = MODEL_TYPE_UNIGRAM;
        boolean treatWhitespaceAsSuffix;
        boolean byteFallback;
        int unknownId = 0;
        int bosId = 1;
        int eosId = 2;
        String normalizationRule = "";
        int charsMapBytes;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
    }

    /** Reads the model at {@code path}; throws {@link CheckpointException} when it is malformed or not a BPE model. */
    public static SentencePieceTokenizer read(Path path) {
        byte[] file;
        try {
            file = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new CheckpointException("cannot read SentencePiece model " + path + ": " + e.getMessage(), e);
        }
        try {
            return parse(path, file);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("SentencePiece model " + path + " cannot be read: " + e.getMessage()
                    + "; is it a tokenizer.model file?", e);
        }
    }

    private static SentencePieceTokenizer parse(Path path, byte[] file) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<TokenType> types = new ArrayList<>();
        Specs specs = new Specs();

        ProtobufReader model = new ProtobufReader(file);
        while (model.nextField()) {
            switch (model.fieldNumber()) {
                case 1 -> readPiece(model.readMessage(), pieces, scores, types);
                case 2 -> readTrainerSpec(model.readMessage(), specs);
                case 3 -> readNormalizerSpec(model.readMessage(), specs);
                default -> model.skipField();
            }
        }
        checkSupported(path, specs, pieces.size());

        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        SentencePieceVocabulary vocabulary = new SentencePieceVocabulary(pieces.toArray(String[]::new), scoreArray,
                types.toArray(TokenType[]::new), specs.bosId, specs.eosId, specs.unknownId);
        SentencePieceOptions options = new SentencePieceOptions(specs.bosId >= 0, specs.addDummyPrefix,
                specs.removeExtraWhitespaces);
        return new SentencePieceTokenizer(vocabulary, options);
    }

    private static void readPiece(ProtobufReader message, List<String> pieces, List<Float> scores,
                                  List<TokenType> types) {
        String piece = null;
        float score = 0;
        TokenType type = TokenType.NORMAL;
        while (message.nextField()) {
            switch (message.fieldNumber()) {
                case 1 -> piece = message.readString();
                case 2 -> score = message.readFloat();
                case 3 -> type = TokenType.fromCode(message.readInt32());
                default -> message.skipField();
            }
        }
        if (piece == null) {
            throw new IllegalArgumentException("piece " + pieces.size() + " has no text (field 1)");
        }
        pieces.add(piece);
        scores.add(score);
        types.add(type);
    }

    private static void readTrainerSpec(ProtobufReader message, Specs specs) {
        while (message.nextField()) {
            switch (message.fieldNumber()) {
                case 3 -> specs.modelType = message.readInt32();
                case 24 -> specs.treatWhitespaceAsSuffix = message.readBool();
                case 35 -> specs.byteFallback = message.readBool();
                case 40 -> specs.unknownId = message.readInt32();
                case 41 -> specs.bosId = message.readInt32();
                case 42 -> specs.eosId = message.readInt32();
                default -> message.skipField();
            }
        }
    }

    private static void readNormalizerSpec(ProtobufReader message, Specs specs) {
        while (message.nextField()) {
            switch (message.fieldNumber()) {
                case 1 -> specs.normalizationRule = message.readString();
                case 2 -> specs.charsMapBytes = message.readBytes().length;
                case 3 -> specs.addDummyPrefix = message.readBool();
                case 4 -> specs.removeExtraWhitespaces = message.readBool();
                case 5 -> specs.escapeWhitespaces = message.readBool();
                default -> message.skipField();
            }
        }
    }

    private static void checkSupported(Path path, Specs specs, int pieceCount) {
        if (specs.modelType != MODEL_TYPE_BPE) {
            String name = specs.modelType > 0 && specs.modelType < MODEL_TYPE_NAMES.length
                    ? MODEL_TYPE_NAMES[specs.modelType] : String.valueOf(specs.modelType);
            throw new CheckpointException("SentencePiece model " + path + " is a " + name
                    + " model; only BPE models (Llama-2 style) are supported");
        }
        if (specs.treatWhitespaceAsSuffix || !specs.escapeWhitespaces) {
            throw new CheckpointException("SentencePiece model " + path + " sets treat_whitespace_as_suffix="
                    + specs.treatWhitespaceAsSuffix + " and escape_whitespaces=" + specs.escapeWhitespaces
                    + "; only a ▁ prefix for spaces (false and true) is supported");
        }
        if (pieceCount == 0) {
            throw new CheckpointException("SentencePiece model " + path + " has no pieces");
        }
        boolean identity = specs.normalizationRule.isEmpty() || specs.normalizationRule.equals("identity");
        if (!identity || specs.charsMapBytes > 0) {
            log.warn("SentencePiece model {} uses normalization rule '{}' ({} bytes of character map);"
                            + " it is not applied, as in llama.cpp, so text that this rule would change"
                            + " may encode differently from SentencePiece",
                    path, specs.normalizationRule, specs.charsMapBytes);
        }
        log.debug("SentencePiece model {}: {} pieces, byte_fallback={}, add_dummy_prefix={}, remove_extra_whitespaces={}",
                path, pieceCount, specs.byteFallback, specs.addDummyPrefix, specs.removeExtraWhitespaces);
    }
}
