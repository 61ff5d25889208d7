package io.sparsemesh.tokenizer;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;

/**
 * Configuration of the tokenizer service ({@code sparsemesh.tokenizer.*}).
 *
 * @param modelPath the model whose tokenizer is served: a GGUF file, a Hugging Face folder, or a
 *     llama2.c {@code .bin} (then set {@code tokenizerPath}); {@code application.yaml} sets the
 *     bundled {@code models/stories260K/stories260K.gguf}, relative to the working directory
 * @param tokenizerPath the tokenizer files when they are not part of the model, such as a llama2.c
 *     {@code tok*.bin}, a {@code tokenizer.model} or a Hugging Face folder; default: none, the model
 *     path is used. The chat template is read from the same place.
 * @param maxInputBytes the largest UTF-8 text of one request (the text to encode, or all message
 *     contents of a chat request together); default 1MB. Keep it below
 *     {@code spring.grpc.server.max-inbound-message-size} (default 4MB).
 * @param maxInputTokens the most token ids one Decode or DecodeStream request may carry; default 131072
 */
@Validated
@ConfigurationProperties("sparsemesh.tokenizer")
public record TokenizerProperties(
        @NotNull Path modelPath,
        Path tokenizerPath,
        @DefaultValue("1MB") DataSize maxInputBytes,
        @DefaultValue("131072") @Positive int maxInputTokens) {

    /** Returns where the tokenizer and its chat template are read from. */
    public Path tokenizerSource() {
        return tokenizerPath != null ? tokenizerPath : modelPath;
    }

    /** Returns the model's file or folder name, which {@code Describe} reports. */
    public String modelName() {
        return modelPath.getFileName().toString();
    }

    public TokenizerLimits limits() {
        return new TokenizerLimits(maxInputBytes.toBytes(), maxInputTokens);
    }
}
