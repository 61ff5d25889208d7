package io.sparsemesh.router.openai;

import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * An error sent to the client in OpenAI's shape,
 * {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP status.
 *
 * @see <a href="https://platform.openai.com/docs/guides/error-codes">OpenAI error codes</a>
 */
public class OpenAiException extends RuntimeException {

    /** Error type for requests the client must change. */
    static final String INVALID_REQUEST = "invalid_request_error";
    /** Error type for failures on the server's side. */
    static final String SERVER_ERROR = "server_error";

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    /**
     * @param param the offending request field, e.g. {@code messages[0].content}, or null
     * @param code  machine-readable reason, e.g. {@code model_not_found}, or null
     */
    public OpenAiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** Creates a 400 {@code invalid_request_error} about one request field. */
    static OpenAiException invalid(String param, String code, String message) {
        return new OpenAiException(400, INVALID_REQUEST, param, code, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** Renders the error body. */
    ObjectNode toJson() {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        ObjectNode error = body.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return body;
    }
}
