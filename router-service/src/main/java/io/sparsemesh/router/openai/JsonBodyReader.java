package io.sparsemesh.router.openai;

import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request body into a JSON object, rejecting bodies that are too large, not UTF-8 or not
 * JSON with a message that gives the offending byte offset or line and column.
 */
final class JsonBodyReader {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final long maxBytes;

    JsonBodyReader(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Reads the body; {@code example} is a short JSON object shown in messages as what to send. */
    ObjectNode read(InputStream body, String example) throws IOException {
        byte[] bytes = body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (bytes.length > maxBytes) {
            throw new OpenAiException(413, OpenAiException.INVALID_REQUEST, null, "request_too_large",
                    "The request body is larger than " + maxBytes + " bytes; send a smaller request"
                            + " (sparsemesh.router.openai.max-request-size sets the limit).");
        }
        String text = decodeUtf8(bytes);
        if (text.isBlank()) {
            throw OpenAiException.invalid(null, "invalid_json",
                    "The request body is empty; send a JSON object such as " + example + ".");
        }

        JsonNode tree;
        try {
            tree = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw OpenAiException.invalid(null, "invalid_json", "The request body is not valid JSON: "
                    + withoutSource(e.getOriginalMessage()) + where(e.getLocation()) + ". Send a JSON object such as "
                    + example + ".");
        }
        if (!(tree instanceof ObjectNode object)) {
            throw OpenAiException.invalid(null, "invalid_json", "The request body must be a JSON object, but it is "
                    + JsonFields.describe(tree) + "; send a JSON object such as " + example + ".");
        }
        return object;
    }

    /**
     * Removes Jackson's source references, e.g. {@code (start marker at [Source: REDACTED ...; line: 1,
     * column: 1])}, which name parser settings rather than the request; the location follows separately.
     */
    static String withoutSource(String message) {
        return message.replaceAll("\\s*\\(?(start marker )?at \\[Source: [^]]*]\\)?", "").strip();
    }

    private static String where(TokenStreamLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    /** Decodes strictly, naming the byte offset of the first malformed sequence; drops a leading byte order mark. */
    private static String decodeUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int offset = in.position();
            throw OpenAiException.invalid(null, "invalid_encoding", String.format(
                    "The request body is not valid UTF-8: byte 0x%02X at offset %d does not form a UTF-8 character;"
                            + " send the JSON body encoded as UTF-8.", bytes[offset] & 0xFF, offset));
        }
        out.flip();
        if (out.hasRemaining() && out.charAt(0) == '\uFEFF') {
            out.get();
        }
        return out.toString();
    }
}
