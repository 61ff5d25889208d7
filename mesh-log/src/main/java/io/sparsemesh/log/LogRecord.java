package io.sparsemesh.log;

/**
 * A record of the mesh's Kafka log. Each type goes to one topic, is serialised as JSON with
 * snake_case field names (see {@link LogRecordJson}) and carries a {@code schema_version}; the
 * JSON schemas are resources under {@code io/sparsemesh/log/schemas/}.
 */
public sealed interface LogRecord permits RequestRecord, GenerationRecord, ExpertLoadRecord {

    /** Version of the record's JSON schema; consumers reject versions they do not know. */
    int schemaVersion();

    /** Kafka topic the record goes to. */
    String topic();

    /** Kafka record key: records with the same key stay in order on one partition. */
    String key();
}
