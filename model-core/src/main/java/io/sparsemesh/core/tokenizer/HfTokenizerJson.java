package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Map.Entry;

/**
 * The parts of a Hugging Face {@code tokenizer.json} that this package needs, read with Jackson: the
 * token string of every id (model vocabulary and added tokens), which added tokens are special, and how
 * the decoder turns token strings back into bytes. Encoding itself is left to the tokenizers
 * library.
 *
 * @param tokens token string by id; null where no token has that id
 * @param special whether each id is a special added token, which decoding skips
 * @param decoder how token strings map to bytes
 */
record HfTokenizerJson(String[] tokens, boolean[] special, Map<String, Integer> ids, Decoder decoder) {

    /** Family of the tokenizer.json {@code decoder}, which sets how token strings map to bytes. */
    enum DecoderKind {
        /** GPT-2's ByteLevel decoder: each character stands for one byte, see {@link ByteLevelAlphabet}. */
        BYTE_LEVEL,
        /** SentencePiece style (Metaspace, or Replace ▁ by a space): {@code ▁} is a space. */
        METASPACE,
        /** Any other decoder (WordPiece, CTC, none): bytes come from the tokenizers library, token by token. */
        OTHER
    }

    /**
     * @param kind the decoder's family
     * @param byteFallback whether {@code <0xXX>} tokens are bytes (a ByteFallback step)
     * @param stripsLeadingSpace whether the decoder removes the space that encoding put before the
     *     text (Strip, or Metaspace with a prepend scheme)
     */
    record Decoder(DecoderKind kind, boolean byteFallback, boolean stripsLeadingSpace) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads {@code tokenizer.json} at {@code path}. */
    static HfTokenizerJson read(Path path) {
        JsonNode root = readJson(path);
        JsonNode model = root.path("model");
        Map<String, Integer> ids = new HashMap<>();
        readModelVocabulary(path, model.path("vocab"), ids);

        Map<Integer, String> added = new HashMap<>();
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        for (JsonNode token : root.path("added_tokens").values()) {
            int id = token.path("id").asInt(-1);
            String content = token.path("content").asString(null);
            if (id < 0 || content == null) {
                throw new CheckpointException(path + ": added token " + token + " has no id or content");
            }
            added.put(id, content);
            addedSpecial.put(id, token.path("special").asBoolean(false));
            ids.put(content, id);
        }

        int size = 0;
        for (int id : ids.values()) {
            size = Math.max(size, id + 1);
        }
        String[] tokens = new String[size];
        boolean[] special = new boolean[size];
        for (Entry<String, Integer> entry : ids.entrySet()) {
            tokens[entry.getValue()] = entry.getKey();
        }
        // added tokens take precedence over the model's vocabulary, as in the tokenizers library's decode
        added.forEach((id, content) -> tokens[id] = content);
        addedSpecial.forEach((id, isSpecial) -> special[id] = isSpecial);
        return new HfTokenizerJson(tokens, special, Map.copyOf(ids), readDecoder(root.path("decoder")));
    }

    /** Reads a JSON file; throws {@link CheckpointException} naming the file when it is missing or invalid. */
    static JsonNode readJson(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException("file " + path + " does not exist");
        }
        try {
            return JSON.readTree(path);
        } catch (JacksonException e) {
            throw new CheckpointException("file " + path + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** BPE and WordPiece store {@code {"token": id}}; Unigram stores {@code [["token", score], ...]}. */
    private static void readModelVocabulary(Path path, JsonNode vocab, Map<String, Integer> ids) {
        if (vocab.isObject()) {
            for (Entry<String, JsonNode> entry : vocab.properties()) {
                ids.put(entry.getKey(), entry.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            int id = 0;
            for (JsonNode entry : vocab.values()) {
                ids.put(entry.path(0).asString(), id++);
            }
        } else {
            throw new CheckpointException(path + " has no model vocabulary (model.vocab): is it a tokenizer.json?");
        }
    }

    private static Decoder readDecoder(JsonNode decoder) {
        String type = decoder.path("type").asString("");
        return switch (type) {
            case "ByteLevel" -> new Decoder(DecoderKind.BYTE_LEVEL, false, false);
            case "Metaspace" -> new Decoder(DecoderKind.METASPACE, false, metaspacePrepends(decoder));
            case "Sequence" -> readDecoderSequence(decoder.path("decoders"));
            default -> new Decoder(DecoderKind.OTHER, false, false);
        };
    }

    /** Reads a Sequence decoder such as Llama 2's: Replace ▁ by a space, ByteFallback, Fuse, Strip. */
    private static Decoder readDecoderSequence(JsonNode steps) {
        boolean byteLevel = false;
        boolean replacesSpaceSymbol = false;
        boolean byteFallback = false;
        boolean strips = false;
        for (JsonNode step : steps.values()) {
            switch (step.path("type").asString("")) {
                case "ByteLevel" -> byteLevel = true;
                case "ByteFallback" -> byteFallback = true;
                case "Metaspace" -> {
                    replacesSpaceSymbol = true;
                    strips |= metaspacePrepends(step);
                }
                case "Replace" -> replacesSpaceSymbol |= "▁".equals(step.path("pattern").path("String").asString(null))
                        && " ".equals(step.path("content").asString(null));
                case "Strip" -> strips |= " ".equals(step.path("content").asString(null)) && step.path("start").asInt(0) > 0;
                default -> {
                    // Fuse only joins strings; other steps are not recognised
                }
            }
        }
        if (byteLevel) {
            return new Decoder(DecoderKind.BYTE_LEVEL, false, false);
        }
        if (replacesSpaceSymbol) {
            return new Decoder(DecoderKind.METASPACE, byteFallback, strips);
        }
        return new Decoder(DecoderKind.OTHER, false, false);
    }

    /** Metaspace decoders strip the first space unless {@code prepend_scheme} is never (older files: add_prefix_space). */
    private static boolean metaspacePrepends(JsonNode metaspace) {
        if (metaspace.has("prepend_scheme")) {
            return !"never".equals(metaspace.path("prepend_scheme").asString(""));
        }
        return metaspace.path("add_prefix_space").asBoolean(true);
    }
}
