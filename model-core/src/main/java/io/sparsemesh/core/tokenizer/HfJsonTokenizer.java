package io.sparsemesh.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sparsemesh.core.checkpoint.CheckpointException;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer. Encoding runs in the Hugging Face tokenizers
 * library (through DJL), so normalizers, pre-tokenizers and added tokens behave exactly as in
 * {@code transformers}; special tokens written in the text, such as {@code "<|eot_id|>"}, are
 * recognised as in {@code transformers}. BOS is added by this class, never by the library's
 * post-processor.
 *
 * <p>Decoding concatenates {@link #tokenBytes} of each id, so {@link #decode} and the
 * {@link StreamingDecoder} agree by construction. For ByteLevel and SentencePiece-style decoders
 * this gives the library's {@code decode(ids, skip_special_tokens=True)}, except in three cases:
 * <ul>
 *   <li>the leading space that a Metaspace/Strip decoder removes is removed only right after BOS,
 *       as for {@link SentencePieceTokenizer};</li>
 *   <li>{@code clean_up_tokenization_spaces} from {@code tokenizer_config.json}, a
 *       {@code transformers} post-processing step, is not applied;</li>
 *   <li>invalid UTF-8 becomes one U+FFFD per maximal invalid sequence (Java's decoder) where the
 *       ByteFallback decoder writes one per byte.</li>
 * </ul>
 * For other decoders each token's bytes are the library's decoding of that token alone.
 *
 * <p>Configuration: {@code bos_token}, {@code eos_token} and {@code add_bos_token} from
 * {@code tokenizer_config.json}; {@code bos_token_id} and {@code eos_token_id} (one id or a list)
 * from {@code generation_config.json}. Without {@code add_bos_token}, BOS is added by default when
 * the tokenizer.json post-processor adds it. Holds a native tokenizer: {@link #close} frees it.
 */
public final class HfJsonTokenizer implements Tokenizer, AutoCloseable {

    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
    public static final String GENERATION_CONFIG_JSON = "generation_config.json";

    private static final byte[] EMPTY = new byte[0];

    private final HuggingFaceTokenizer library;
    private final HfTokenizerJson vocabulary;
    private final byte[][] tokenBytes;
    private final int bosId;
    private final Set<Integer> eosIds;
    private final boolean addBosByDefault;

    private HfJsonTokenizer(HuggingFaceTokenizer library, HfTokenizerJson vocabulary, int bosId, Set<Integer> eosIds,
                            boolean addBosByDefault) {
        this.library = library;
        this.vocabulary = vocabulary;
        this.bosId = bosId;
        this.eosIds = Set.copyOf(eosIds);
        this.addBosByDefault = addBosByDefault;
        this.tokenBytes = new byte[vocabulary.tokens().length][];
        for (int id = 0; id < tokenBytes.length; id++) {
            tokenBytes[id] = computeTokenBytes(id);
        }
    }

    /** Opens {@code folder}/tokenizer.json with the folder's tokenizer_config.json and generation_config.json when present. */
    public static HfJsonTokenizer open(Path folder) {
        Path tokenizerJson = folder.resolve(TOKENIZER_JSON);
        HfTokenizerJson vocabulary = HfTokenizerJson.read(tokenizerJson);
        HuggingFaceTokenizer library = loadLibrary(tokenizerJson);
        try {
            Path configPath = folder.resolve(TOKENIZER_CONFIG_JSON);
            JsonNode config = Files.isRegularFile(configPath) ? HfTokenizerJson.readJson(configPath) : null;
            Path generationPath = folder.resolve(GENERATION_CONFIG_JSON);
            JsonNode generation = Files.isRegularFile(generationPath) ? HfTokenizerJson.readJson(generationPath) : null;

            int bosId = specialTokenId(configPath, config, "bos_token", vocabulary);
            if (bosId < 0 && generation != null) {
                bosId = generation.path("bos_token_id").asInt(-1);
            }
            Set<Integer> eosIds = new LinkedHashSet<>();
            int eosId = specialTokenId(configPath, config, "eos_token", vocabulary);
            if (eosId >= 0) {
                eosIds.add(eosId);
            }
            if (generation != null) {
                JsonNode generationEos = generation.path("eos_token_id");
                if (generationEos.isArray()) {
                    generationEos.values().forEach(id -> eosIds.add(id.asInt()));
                } else if (generationEos.isIntegralNumber()) {
                    eosIds.add(generationEos.asInt());
                }
            }

            boolean addBos;
            if (config != null && config.path("add_bos_token").isBoolean()) {
                addBos = config.path("add_bos_token").asBoolean();
            } else {
                long[] probe = library.encode("a", true, false).getIds();
                addBos = bosId >= 0 && probe.length > 0 && probe[0] == bosId;
            }
            int size = vocabulary.tokens().length;
            if (bosId >= size || eosIds.stream().anyMatch(id -> id < 0 || id >= size)) {
                throw new CheckpointException("folder " + folder + ": BOS id " + bosId + " or EOS ids " + eosIds
                        + " are outside the " + size + " tokens of " + TOKENIZER_JSON);
            }
            return new HfJsonTokenizer(library, vocabulary, bosId, eosIds, addBos && bosId >= 0);
        } catch (RuntimeException e) {
            library.close();
            throw e;
        }
    }

    private static HuggingFaceTokenizer loadLibrary(Path tokenizerJson) {
        // BOS is added here, not by the post-processor; sequences are never truncated or padded
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try {
            return HuggingFaceTokenizer.newInstance(tokenizerJson, options);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("the tokenizers library cannot load " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /** Returns the id of {@code key} in tokenizer_config.json (a string or an object with "content"), or -1. */
    private static int specialTokenId(Path configPath, JsonNode config, String key, HfTokenizerJson vocabulary) {
        if (config == null) {
            return -1;
        }
        JsonNode node = config.path(key);
        String content = node.isObject() ? node.path("content").asString(null) : node.asString(null);
        if (content == null || node.isNull()) {
            return -1;
        }
        Integer id = vocabulary.ids().get(content);
        if (id == null) {
            throw new CheckpointException(configPath + " sets " + key + " to '" + content
                    + "', which is not a token of " + TOKENIZER_JSON);
        }
        return id;
    }

    private byte[] computeTokenBytes(int id) {
        String token = vocabulary.tokens()[id];
        if (token == null || vocabulary.special()[id]) {
            return EMPTY;
        }
        HfTokenizerJson.Decoder decoder = vocabulary.decoder();
        return switch (decoder.kind()) {
            case BYTE_LEVEL -> ByteLevelAlphabet.decode(token);
            case METASPACE -> decoder.byteFallback() && SentencePieceVocabulary.isBytePiece(token)
                    ? new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)}
                    : token.replace(SentencePieceVocabulary.SPACE_SYMBOL, ' ').getBytes(StandardCharsets.UTF_8);
            case OTHER -> library.decode(new long[] {id}, true).getBytes(StandardCharsets.UTF_8);
        };
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public Set<Integer> eosIds() {
        return eosIds;
    }

    @Override
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    /** Returns the id of token string {@code token} (vocabulary or added token), or -1. */
    public int tokenId(String token) {
        return vocabulary.ids().getOrDefault(token, -1);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        long[] ids = library.encode(text, false, false).getIds();
        boolean withBos = addBos && bosId >= 0;
        int offset = withBos ? 1 : 0;
        int[] result = new int[ids.length + offset];
        if (withBos) {
            result[0] = bosId;
        }
        for (int i = 0; i < ids.length; i++) {
            result[i + offset] = Math.toIntExact(ids[i]);
        }
        return result;
    }

    @Override
    public String decode(int[] ids) {
        return Decoding.concatenateTokenBytes(this, ids);
    }

    /** Decodes {@code ids} with the tokenizers library itself, skipping special tokens; for comparison with {@link #decode}. */
    public String decodeWithLibrary(int[] ids) {
        Arrays.stream(ids).forEach(this::checkId);
        return library.decode(Arrays.stream(ids).asLongStream().toArray(), true);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenBytes[checkId(id)].clone();
    }

    @Override
    public byte[] tokenBytesAfter(int previousId, int id) {
        byte[] bytes = tokenBytes[checkId(id)];
        boolean dropLeadingSpace = previousId >= 0 && previousId == bosId
                && vocabulary.decoder().stripsLeadingSpace() && bytes.length > 0 && bytes[0] == ' ';
        return dropLeadingSpace ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes.clone();
    }

    private int checkId(int id) {
        return Decoding.checkId(id, tokenBytes.length);
    }

    @Override
    public void close() {
        library.close();
    }

    @Override
    public String toString() {
        return "HfJsonTokenizer(" + tokenBytes.length + " tokens, bos=" + bosId + ", eos=" + eosIds
                + ", decoder=" + vocabulary.decoder() + ")";
    }
}
