package io.sparsemesh.log;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON form of log records: snake_case field names, instants as ISO-8601 strings in UTC, null
 * fields written as {@code null}. Unknown fields are ignored when reading, so consumers accept
 * records that a newer producer extended with optional fields of the same schema version.
 */
public final class LogRecordJson {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private LogRecordJson() {
    }

    /** Serialises a record to UTF-8 JSON. */
    public static byte[] toJson(LogRecord record) {
        return MAPPER.writeValueAsBytes(record);
    }

    /**
     * Reads a record of the given type.
     *
     * @throws IllegalArgumentException when the bytes are not JSON of that record type
     */
    public static <T extends LogRecord> T fromJson(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("invalid " + type.getSimpleName() + " JSON: " + e.getOriginalMessage(), e);
        }
    }
}
