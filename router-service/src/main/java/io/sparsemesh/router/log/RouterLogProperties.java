package io.sparsemesh.router.log;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Contents of the router's Kafka log ({@code sparsemesh.router.log.*}). The destination is set by
 * {@code sparsemesh.log.*}, and nothing is written while {@code sparsemesh.log.kafka.bootstrap-servers}
 * is unset.
 *
 * @param contentEnabled     whether generation records carry prompt and completion text; default false
 * @param expertLoadInterval length of one expert-load interval; default 10 s
 */
@Validated
@ConfigurationProperties("sparsemesh.router.log")
public record RouterLogProperties(
        @DefaultValue("false") boolean contentEnabled,
        @DefaultValue("10s") Duration expertLoadInterval) {

    public RouterLogProperties {
        if (expertLoadInterval.toMillis() < 1) {
            throw new IllegalArgumentException("sparsemesh.router.log.expert-load-interval must be at least 1 ms, got "
                    + expertLoadInterval);
        }
    }
}
