package io.sparsemesh.core.tokenizer;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the tokenizer files that checkpoints come with. */
public final class Tokenizers {

    private static final Logger log = LoggerFactory.getLogger(Tokenizers.class);

    private Tokenizers() {
    }

    /**
     * Opens {@code path} by what it is: a folder with {@code tokenizer.json} (Hugging Face) or
     * {@code tokenizer.model} (SentencePiece), a GGUF file, a {@code tokenizer.json}, a
     * {@code *.model} SentencePiece file, or else a llama2.c {@code tok*.bin}.
     */
    public static Tokenizer open(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(HfJsonTokenizer.TOKENIZER_JSON))) {
                return openHuggingFace(path);
            }
            if (Files.isRegularFile(path.resolve("tokenizer.model"))) {
                return openSentencePiece(path.resolve("tokenizer.model"));
            }
            throw new CheckpointException("folder " + path + " has neither " + HfJsonTokenizer.TOKENIZER_JSON
                    + " nor tokenizer.model; pass the tokenizer file itself");
        }
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException("tokenizer file " + path + " does not exist");
        }
        String name = path.getFileName().toString();
        if (GgufFile.hasMagic(path)) {
            return openGguf(path);
        }
        if (name.equals(HfJsonTokenizer.TOKENIZER_JSON)) {
            return openHuggingFace(path.toAbsolutePath().getParent());
        }
        if (name.endsWith(".model")) {
            return openSentencePiece(path);
        }
        return openLlama2c(path);
    }

    /** Opens a llama2.c tokenizer ({@code tok*.bin}) with Llama's options: BOS and a dummy prefix. */
    public static SentencePieceTokenizer openLlama2c(Path tokenizerBin) {
        SentencePieceTokenizer tokenizer = new SentencePieceTokenizer(Llama2cTokenizerReader.read(tokenizerBin),
                SentencePieceOptions.LLAMA);
        log.info("Opened llama2.c tokenizer {}: {} tokens", tokenizerBin, tokenizer.vocabSize());
        return tokenizer;
    }

    /** Opens a SentencePiece {@code tokenizer.model}. */
    public static SentencePieceTokenizer openSentencePiece(Path model) {
        SentencePieceTokenizer tokenizer = SentencePieceModelReader.read(model);
        log.info("Opened SentencePiece tokenizer {}: {} tokens, {}", model, tokenizer.vocabSize(), tokenizer.options());
        return tokenizer;
    }

    /** Opens the tokenizer stored in a GGUF file's metadata. */
    public static SentencePieceTokenizer openGguf(Path gguf) {
        return fromGguf(GgufFile.read(gguf));
    }

    /** Builds the tokenizer stored in {@code gguf}'s metadata. */
    public static SentencePieceTokenizer fromGguf(GgufFile gguf) {
        SentencePieceTokenizer tokenizer = GgufTokenizerReader.read(gguf);
        log.info("Opened GGUF tokenizer of {}: {} tokens, {}", gguf.path(), tokenizer.vocabSize(), tokenizer.options());
        return tokenizer;
    }

    /**
     * Opens a Hugging Face tokenizer folder: {@code tokenizer.json}, with {@code tokenizer_config.json}
     * and {@code generation_config.json} when present.
     */
    public static HfJsonTokenizer openHuggingFace(Path folder) {
        HfJsonTokenizer tokenizer = HfJsonTokenizer.open(folder);
        log.info("Opened Hugging Face tokenizer {}: {} tokens, bos={}, eos={}", folder, tokenizer.vocabSize(),
                tokenizer.bosId(), tokenizer.eosIds());
        return tokenizer;
    }
}
