package io.sparsemesh.log;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each record's JSON matches its published schema, field by field, and reads back equal. */
class LogRecordJsonTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.678Z");

    static final RequestRecord REQUEST = new RequestRecord("req-1", T0, "POST", "/v1/chat/completions", "openai",
            "team-a", 200, 12.5, 321, 4096);
    static final GenerationRecord GENERATION = new GenerationRecord("req-1", T0, "stories260K", 5, 16, 3.25, 0.5,
            "length", null, null, List.of(new GenerationRecord.Message("user", "Once upon a time")), "there was");
    static final ExpertLoadRecord EXPERT_LOAD = new ExpertLoadRecord("deepseek_v3_tiny", T0, T0.plusSeconds(10), 1,
            new long[] {4, 0, 7, 1});

    @Test
    void requestMatchesSchema() throws IOException {
        assertMatchesSchema(REQUEST, "sparsemesh.requests", RequestRecord.SCHEMA_VERSION);
    }

    @Test
    void generationMatchesSchema() throws IOException {
        assertMatchesSchema(GENERATION, "sparsemesh.generations", GenerationRecord.SCHEMA_VERSION);
    }

    @Test
    void generationWithoutContentMatchesSchema() throws IOException {
        GenerationRecord failed = new GenerationRecord("req-2", T0, "m", 3, 0, null, null, "error", "shard unavailable",
                null, null, null);
        assertMatchesSchema(failed, "sparsemesh.generations", GenerationRecord.SCHEMA_VERSION);
    }

    @Test
    void expertLoadMatchesSchema() throws IOException {
        assertMatchesSchema(EXPERT_LOAD, "sparsemesh.expert-load", ExpertLoadRecord.SCHEMA_VERSION);
    }

    @Test
    void recordsReadBackEqual() {
        assertEquals(REQUEST, LogRecordJson.fromJson(LogRecordJson.toJson(REQUEST), RequestRecord.class));
        assertEquals(GENERATION, LogRecordJson.fromJson(LogRecordJson.toJson(GENERATION), GenerationRecord.class));
        assertEquals(EXPERT_LOAD, LogRecordJson.fromJson(LogRecordJson.toJson(EXPERT_LOAD), ExpertLoadRecord.class));
    }

    @Test
    void timestampsAreIsoStrings() {
        JsonNode node = JSON.readTree(LogRecordJson.toJson(REQUEST));
        assertEquals("2026-01-02T03:04:05.678Z", node.get("timestamp").asString());
    }

    @Test
    void keysAndTopicsFollowTheTopicTable() {
        assertEquals("sparsemesh.requests", REQUEST.topic());
        assertEquals("req-1", REQUEST.key());
        assertEquals("sparsemesh.generations", GENERATION.topic());
        assertEquals("req-1", GENERATION.key());
        assertEquals("sparsemesh.expert-load", EXPERT_LOAD.topic());
        assertEquals("deepseek_v3_tiny", EXPERT_LOAD.key());
    }

    @Test
    void invalidJsonIsRejectedWithTypeName() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> LogRecordJson.fromJson("{\"request_id\": [}".getBytes(), RequestRecord.class));
        assertTrue(error.getMessage().contains("RequestRecord"), error.getMessage());
    }

    private static void assertMatchesSchema(LogRecord record, String topic, int schemaVersion) throws IOException {
        JsonNode schema;
        try (InputStream in = LogRecordJsonTest.class.getResourceAsStream("schemas/" + topic + ".schema.json")) {
            assertNotNull(in, "schema resource of " + topic);
            schema = JSON.readTree(in);
        }
        JsonNode json = JSON.readTree(LogRecordJson.toJson(record));
        JsonNode properties = schema.get("properties");

        assertEquals(new HashSet<>(properties.propertyNames()), new HashSet<>(json.propertyNames()),
                "fields of " + topic + " and its schema's properties");
        Set<String> required = new HashSet<>();
        schema.get("required").forEach(name -> required.add(name.asString()));
        assertEquals(new HashSet<>(properties.propertyNames()), required, "every property of " + topic + " is required");
        assertEquals(schemaVersion, properties.get("schema_version").get("const").asInt());

        for (String field : json.propertyNames()) {
            assertTrue(matches(properties.get(field), json.get(field)),
                    topic + "." + field + " = " + json.get(field) + " does not match " + properties.get(field));
        }
    }

    /** Checks the schema keywords these schemas use: const, enum, type, minimum and array items. */
    private static boolean matches(JsonNode schema, JsonNode value) {
        if (schema.has("const")) {
            return schema.get("const").equals(value);
        }
        if (schema.has("enum")) {
            List<JsonNode> options = new ArrayList<>();
            schema.get("enum").forEach(options::add);
            return options.contains(value);
        }
        List<String> types = new ArrayList<>();
        JsonNode type = schema.get("type");
        if (type.isArray()) {
            type.forEach(t -> types.add(t.asString()));
        } else {
            types.add(type.asString());
        }
        if (value.isNull()) {
            return types.contains("null");
        }
        if (schema.has("minimum") && value.isNumber() && value.asDouble() < schema.get("minimum").asDouble()) {
            return false;
        }
        if (value.isArray()) {
            if (!types.contains("array")) {
                return false;
            }
            for (JsonNode item : value) {
                JsonNode itemSchema = schema.get("items");
                if (itemSchema.has("properties") ? !item.isObject() : !matches(itemSchema, item)) {
                    return false;
                }
            }
            return true;
        }
        return (value.isString() && types.contains("string"))
                || (value.isIntegralNumber() && (types.contains("integer") || types.contains("number")))
                || (value.isFloatingPointNumber() && types.contains("number"))
                || (value.isObject() && types.contains("object"));
    }
}
