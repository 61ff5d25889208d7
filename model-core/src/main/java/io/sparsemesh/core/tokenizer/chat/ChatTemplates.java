package io.sparsemesh.core.tokenizer.chat;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufArray;
import io.sparsemesh.core.checkpoint.GgufFile;
import io.sparsemesh.core.tokenizer.GgufTokenizerReader;
import io.sparsemesh.core.tokenizer.HfJsonTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Finds the chat template that comes with a model's tokenizer files. */
public final class ChatTemplates {

    /** The file newer Hugging Face checkpoints keep the template in, beside {@code tokenizer_config.json}. */
    public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";
    /** The GGUF metadata key of the template. */
    public static final String GGUF_CHAT_TEMPLATE_KEY = "tokenizer.chat_template";

    private static final Logger log = LoggerFactory.getLogger(ChatTemplates.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token", "pad_token");

    private ChatTemplates() {
    }

    /**
     * Returns the chat template for the tokenizer at {@code path}, accepting what
     * {@link io.sparsemesh.core.tokenizer.Tokenizers#open} accepts: a Hugging Face folder
     * ({@code chat_template.jinja}, else the {@code chat_template} of {@code tokenizer_config.json}),
     * a file inside one, or a GGUF file ({@code tokenizer.chat_template}). Without a template, such as
     * for llama2.c and SentencePiece files and base models, it is a {@link LastUserMessageTemplate}.
     *
     * @throws ChatTemplateException when a template exists but cannot be parsed
     * @throws CheckpointException when a configuration file cannot be read
     */
    public static ChatTemplate open(Path path) {
        ChatTemplate template = find(path);
        log.info("Chat template for {}: {}", path, template.description());
        return template;
    }

    private static ChatTemplate find(Path path) {
        if (Files.isDirectory(path)) {
            return fromHuggingFaceFolder(path);
        }
        String name = path.getFileName().toString();
        if (name.equals(HfJsonTokenizer.TOKENIZER_JSON) || name.equals(HfJsonTokenizer.TOKENIZER_CONFIG_JSON)) {
            return fromHuggingFaceFolder(path.toAbsolutePath().getParent());
        }
        if (Files.isRegularFile(path) && GgufFile.hasMagic(path)) {
            return fromGguf(GgufFile.read(path));
        }
        return new LastUserMessageTemplate();
    }

    /** Reads the template of a Hugging Face tokenizer folder. */
    public static ChatTemplate fromHuggingFaceFolder(Path folder) {
        Path configPath = folder.resolve(HfJsonTokenizer.TOKENIZER_CONFIG_JSON);
        JsonNode config = Files.isRegularFile(configPath) ? readJson(configPath) : null;
        Map<String, String> specialTokens = new LinkedHashMap<>();
        if (config != null) {
            for (String key : SPECIAL_TOKEN_KEYS) {
                JsonNode node = config.path(key);
                String content = node.isObject() ? node.path("content").asString(null) : node.isString() ? node.asString() : null;
                if (content != null) {
                    specialTokens.put(key, content);
                }
            }
        }

        Path jinjaPath = folder.resolve(CHAT_TEMPLATE_JINJA);
        if (Files.isRegularFile(jinjaPath)) {
            return new JinjaChatTemplate(readString(jinjaPath), specialTokens, jinjaPath.toString());
        }
        String source = config == null ? null : templateSource(configPath, config.path("chat_template"));
        if (source == null) {
            return new LastUserMessageTemplate();
        }
        return new JinjaChatTemplate(source, specialTokens, configPath + " (chat_template)");
    }

    /** Returns the template in {@code chat_template}: a string, or the one named "default" in a list of named templates. */
    private static String templateSource(Path configPath, JsonNode node) {
        if (node.isString()) {
            return node.asString();
        }
        if (node.isArray()) {
            for (JsonNode named : node.values()) {
                if ("default".equals(named.path("name").asString(null))) {
                    return named.path("template").asString(null);
                }
            }
            throw new CheckpointException(configPath + " lists chat templates by name but none is named 'default'; "
                    + "add a 'default' entry or a chat_template.jinja file");
        }
        return null;
    }

    /** Reads the template in GGUF metadata, with the BOS and EOS token texts of its vocabulary. */
    public static ChatTemplate fromGguf(GgufFile gguf) {
        if (!gguf.contains(GGUF_CHAT_TEMPLATE_KEY)) {
            return new LastUserMessageTemplate();
        }
        Map<String, String> specialTokens = new LinkedHashMap<>();
        if (gguf.contains(GgufTokenizerReader.TOKENS_KEY)) {
            GgufArray tokens = gguf.getArray(GgufTokenizerReader.TOKENS_KEY);
            putToken(specialTokens, "bos_token", gguf.getInt(GgufTokenizerReader.BOS_ID_KEY, -1), tokens);
            putToken(specialTokens, "eos_token", gguf.getInt(GgufTokenizerReader.EOS_ID_KEY, -1), tokens);
        }
        return new JinjaChatTemplate(gguf.getString(GGUF_CHAT_TEMPLATE_KEY), specialTokens,
                gguf.path() + " (" + GGUF_CHAT_TEMPLATE_KEY + ")");
    }

    private static void putToken(Map<String, String> specialTokens, String key, int id, GgufArray tokens) {
        if (id >= 0 && id < tokens.size()) {
            specialTokens.put(key, tokens.stringAt(id));
        }
    }

    private static JsonNode readJson(Path path) {
        try {
            return JSON.readTree(path.toFile());
        } catch (JacksonException e) {
            throw new CheckpointException("cannot parse " + path + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String readString(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new CheckpointException("cannot read chat template " + path + ": " + e.getMessage(), e);
        }
    }
}
