package io.sparsemesh.router.openai;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Settings of the router's OpenAI-compatible HTTP API ({@code sparsemesh.router.openai.*}).
 *
 * @param keepAliveInterval idle time after which a stream gets an SSE comment line. The write also
 *                          detects clients that went away while nothing was generated. Default 15 s
 * @param maxRequestSize    largest request body accepted; default 4 MB
 * @param defaultMaxTokens  output tokens of a request that sets neither {@code max_tokens} nor
 *                          {@code max_completion_tokens}, lowered to the room its prompt leaves in the
 *                          context; default none, which gives such a request all of that room
 */
@Validated
@ConfigurationProperties("sparsemesh.router.openai")
public record OpenAiProperties(
        @DefaultValue("15s") Duration keepAliveInterval,
        @DefaultValue("4MB") DataSize maxRequestSize,
        Integer defaultMaxTokens) {

    public OpenAiProperties {
        if (keepAliveInterval.isNegative() || keepAliveInterval.isZero()) {
            throw new IllegalArgumentException("sparsemesh.router.openai.keep-alive-interval must be positive, got "
                    + keepAliveInterval);
        }
        if (defaultMaxTokens != null && defaultMaxTokens < 1) {
            throw new IllegalArgumentException("sparsemesh.router.openai.default-max-tokens must be at least 1, got "
                    + defaultMaxTokens + "; remove it to give each request the room its prompt leaves");
        }
        if (maxRequestSize.toBytes() < 1) {
            throw new IllegalArgumentException("sparsemesh.router.openai.max-request-size must be positive, got "
                    + maxRequestSize);
        }
    }
}
