package io.sparsemesh.log;

import java.time.Instant;
import java.util.Objects;

/**
 * One HTTP request that reached the gateway, written to {@value #TOPIC} with the request id as
 * key. Schema: {@code io/sparsemesh/log/schemas/sparsemesh.requests.schema.json}.
 *
 * @param schemaVersion {@value #SCHEMA_VERSION}
 * @param requestId     the {@code X-Request-Id} the gateway passed on to the router
 * @param timestamp     when the gateway received the request
 * @param method        HTTP method
 * @param path          request path without the query string
 * @param route         id of the gateway route that served it, or null when no route matched
 * @param apiKeyId      id of the API key that authenticated the request, or null; never the key
 * @param status        HTTP status sent to the client; 499 when the client went away before a response
 * @param latencyMs     from receiving the request to the end of the response, in milliseconds
 * @param requestBytes  request body bytes read
 * @param responseBytes response body bytes written
 */
public record RequestRecord(int schemaVersion, String requestId, Instant timestamp, String method, String path,
                            String route, String apiKeyId, int status, double latencyMs, long requestBytes,
                            long responseBytes) implements LogRecord {

    public static final String TOPIC = "sparsemesh.requests";
    public static final int SCHEMA_VERSION = 1;

    public RequestRecord {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    /** Creates a record of the current schema version. */
    public RequestRecord(String requestId, Instant timestamp, String method, String path, String route,
                         String apiKeyId, int status, double latencyMs, long requestBytes, long responseBytes) {
        this(SCHEMA_VERSION, requestId, timestamp, method, path, route, apiKeyId, status, latencyMs,
                requestBytes, responseBytes);
    }

    @Override
    public String topic() {
        return TOPIC;
    }

    @Override
    public String key() {
        return requestId;
    }
}
