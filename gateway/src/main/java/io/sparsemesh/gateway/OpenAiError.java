package io.sparsemesh.gateway;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import java.util.Map;

/**
 * An error in the shape of OpenAI's API, {@code {"error": {"message", "type", "param", "code"}}},
 * which OpenAI client libraries parse and show to their users.
 *
 * @param status  HTTP status
 * @param message what went wrong and what to do, for the API user
 * @param type    OpenAI error type, e.g. {@code invalid_request_error}
 * @param param   the request field at fault, or null
 * @param code    OpenAI error code, e.g. {@code invalid_api_key}, or null
 */
public record OpenAiError(HttpStatusCode status, String message, String type, String param, String code) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static final String INVALID_REQUEST = "invalid_request_error";
    static final String SERVER_ERROR = "server_error";

    /** Writes this error as the response body, replacing the status and content type. */
    public Mono<Void> writeTo(ServerHttpResponse response) {
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        response.getHeaders().remove(HttpHeaders.CONTENT_LENGTH);
        DataBuffer body = response.bufferFactory().wrap(toJson());
        return response.writeWith(Mono.just(body));
    }

    /** Returns the JSON body. */
    public byte[] toJson() {
        Body body = new Body(message, type, param, code);
        return JSON.writeValueAsBytes(Map.of("error", body));
    }

    /** The inner object, with the fields in OpenAI's order. */
    private record Body(String message, String type, String param, String code) {
    }
}
