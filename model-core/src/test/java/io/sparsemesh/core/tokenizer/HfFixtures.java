package io.sparsemesh.core.tokenizer;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes small but complete Hugging Face tokenizer folders for tests: a GPT-2 style byte-level
 * BPE and a Llama-2 style SentencePiece BPE with byte fallback.
 */
final class HfFixtures {

    static final JsonMapper JSON = JsonMapper.builder().build();

    static final int BYTE_LEVEL_BOS = 268;
    static final int BYTE_LEVEL_EOS = 269;
    static final int BYTE_LEVEL_TOOL = 270;
    static final int BYTE_LEVEL_EOT = 271;

    /** Merges of the byte-level fixture in rank order; merge i creates token 256 + i. */
    static final List<String> BYTE_LEVEL_MERGES = List.of(
            "Ġ t", "h e", "Ġt he", "l l", "ll o", "he llo", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "Ã ©");

    private HfFixtures() {
    }

    /**
     * GPT-2's bytes_to_unicode written independently of {@link ByteLevelAlphabet}: a printable byte
     * is its own character; any other byte b becomes U+0100 plus the number of non-printable bytes below b.
     */
    static char gpt2Char(int b) {
        if (isPrintable(b)) {
            return (char) b;
        }
        int nonPrintableBelow = 0;
        for (int lower = 0; lower < b; lower++) {
            if (!isPrintable(lower)) {
                nonPrintableBelow++;
            }
        }
        return (char) (0x100 + nonPrintableBelow);
    }

    private static boolean isPrintable(int b) {
        return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /**
     * Writes a byte-level BPE folder: tokens 0-255 are the bytes, 256-267 the merges, 268
     * {@code <|begin_of_text|>} (BOS), 269 {@code <|end_of_text|>} (EOS), 270 {@code <tool>}
     * (added, not special) and 271 {@code <|eot_id|>} (an EOS from generation_config.json).
     *
     * @param addBosToken the tokenizer_config.json {@code add_bos_token} value, or null to leave it
     *     out, in which case the post-processor prepends BOS
     */
    static Path writeByteLevel(Path folder, Boolean addBosToken) throws IOException {
        ObjectNode vocab = JSON.createObjectNode();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(gpt2Char(b)), b);
        }
        ArrayNode merges = JSON.createArrayNode();
        for (int rank = 0; rank < BYTE_LEVEL_MERGES.size(); rank++) {
            String merge = BYTE_LEVEL_MERGES.get(rank);
            merges.add(merge);
            vocab.put(merge.replace(" ", ""), 256 + rank);
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.add(addedToken(BYTE_LEVEL_BOS, "<|begin_of_text|>", true));
        added.add(addedToken(BYTE_LEVEL_EOS, "<|end_of_text|>", true));
        added.add(addedToken(BYTE_LEVEL_TOOL, "<tool>", false));
        added.add(addedToken(BYTE_LEVEL_EOT, "<|eot_id|>", true));
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false));
        if (addBosToken == null) {
            root.set("post_processor", prependBos("<|begin_of_text|>", BYTE_LEVEL_BOS));
        } else {
            root.set("post_processor", byteLevel(true));
        }
        root.set("decoder", byteLevel(true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", merges);

        ObjectNode config = JSON.createObjectNode();
        if (addBosToken != null) {
            config.put("add_bos_token", addBosToken);
        }
        config.put("bos_token", "<|begin_of_text|>");
        ObjectNode eos = config.putObject("eos_token");
        eos.put("__type", "AddedToken");
        eos.put("content", "<|end_of_text|>");
        eos.put("lstrip", false);
        eos.put("rstrip", false);
        config.put("clean_up_tokenization_spaces", false);

        ObjectNode generation = JSON.createObjectNode();
        generation.put("bos_token_id", BYTE_LEVEL_BOS);
        generation.putArray("eos_token_id").add(BYTE_LEVEL_EOS).add(BYTE_LEVEL_EOT);

        return write(folder, root, config, generation);
    }

    /**
     * Writes a Llama-2 style folder: 0 {@code <unk>}, 1 {@code <s>}, 2 {@code </s>}, 3-258 byte
     * pieces {@code <0x00>}..{@code <0xFF>}, then ▁ (259), h (260), i (261), hi (262) and ▁hi (263),
     * with the normalizer, decoder and config of Llama 2's tokenizer.json.
     */
    static Path writeMetaspace(Path folder) throws IOException {
        ObjectNode vocab = JSON.createObjectNode();
        vocab.put("<unk>", 0);
        vocab.put("<s>", 1);
        vocab.put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), 3 + b);
        }
        String[] pieces = {"▁", "h", "i", "hi", "▁hi"};
        for (int i = 0; i < pieces.length; i++) {
            vocab.put(pieces[i], 259 + i);
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.add(addedToken(0, "<unk>", true));
        added.add(addedToken(1, "<s>", true));
        added.add(addedToken(2, "</s>", true));
        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "Prepend").put("prepend", "▁");
        normalizers.add(replace(" ", "▁"));
        root.putNull("pre_tokenizer");
        root.set("post_processor", prependBos("<s>", 1));
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        decoders.add(replace("▁", " "));
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        model.putArray("merges").add("h i").add("▁ hi");

        ObjectNode config = JSON.createObjectNode();
        config.put("add_bos_token", true);
        config.put("add_eos_token", false);
        config.put("bos_token", "<s>");
        config.put("eos_token", "</s>");
        config.put("unk_token", "<unk>");
        return write(folder, root, config, null);
    }

    private static Path write(Path folder, ObjectNode tokenizer, ObjectNode config, ObjectNode generation)
            throws IOException {
        Files.createDirectories(folder);
        Files.writeString(folder.resolve(HfJsonTokenizer.TOKENIZER_JSON), JSON.writeValueAsString(tokenizer));
        Files.writeString(folder.resolve(HfJsonTokenizer.TOKENIZER_CONFIG_JSON), JSON.writeValueAsString(config));
        if (generation != null) {
            Files.writeString(folder.resolve(HfJsonTokenizer.GENERATION_CONFIG_JSON), JSON.writeValueAsString(generation));
        }
        return folder;
    }

    private static ObjectNode addedToken(int id, String content, boolean special) {
        ObjectNode token = JSON.createObjectNode();
        token.put("id", id);
        token.put("content", content);
        token.put("single_word", false);
        token.put("lstrip", false);
        token.put("rstrip", false);
        token.put("normalized", false);
        token.put("special", special);
        return token;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", true);
        node.put("use_regex", true);
        return node;
    }

    private static ObjectNode replace(String pattern, String content) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "Replace");
        node.putObject("pattern").put("String", pattern);
        node.put("content", content);
        return node;
    }

    /** Returns a TemplateProcessing post-processor that puts {@code bos} before every sequence. */
    private static ObjectNode prependBos(String bos, int bosId) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "TemplateProcessing");
        ArrayNode single = node.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = node.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode special = node.putObject("special_tokens").putObject(bos);
        special.put("id", bos);
        special.putArray("ids").add(bosId);
        special.putArray("tokens").add(bos);
        return node;
    }
}
