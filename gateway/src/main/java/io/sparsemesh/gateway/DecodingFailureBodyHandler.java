package io.sparsemesh.gateway;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.sparsemesh.log.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;

import java.time.Duration;
import java.util.UUID;

/**
 * Gives an OpenAI-shaped body to the responses that Reactor Netty sends on its own when it cannot
 * decode a request: 431 for headers over {@code server.max-http-request-header-size}, 414 for a
 * request line over {@code server.netty.max-initial-line-length}, 400 for anything else that is
 * not valid HTTP. Such requests never reach the WebFlux filters, so {@link OpenAiErrorFilter}
 * cannot see them. Sits in each connection's pipeline right after the HTTP codec. It watches the
 * decoded requests for a failure, and rewrites the empty response that follows one. Reactor
 * Netty closes the connection after that response.
 */
final class DecodingFailureBodyHandler extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(DecodingFailureBodyHandler.class);
    private static final RateLimitedLog failureLog = new RateLimitedLog(log, Duration.ofSeconds(10));

    private final long maxHeaderBytes;
    private final long maxInitialLineBytes;
    /** The decoding failure seen on this connection, or null. */
    private Throwable failure;

    /**
     * @param maxHeaderBytes      the configured limit on all request headers together, for the message
     * @param maxInitialLineBytes the configured limit on the request line, for the message
     */
    DecodingFailureBodyHandler(long maxHeaderBytes, long maxInitialLineBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxInitialLineBytes = maxInitialLineBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpObject object && object.decoderResult().isFailure()) {
            failure = object.decoderResult().cause();
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (failure != null && msg instanceof FullHttpResponse response && response.content().readableBytes() == 0
                && response.status().code() >= 400) {
            Throwable cause = failure;
            failure = null;
            msg = withBody(response, cause);
        }
        super.write(ctx, msg, promise);
    }

    private FullHttpResponse withBody(FullHttpResponse response, Throwable cause) {
        String requestId = UUID.randomUUID().toString();
        failureLog.warn("Rejected requests that are not valid HTTP or exceed a size limit; last: request "
                + requestId + ", status " + response.status().code(), cause.toString());
        byte[] body = error(HttpStatus.valueOf(response.status().code()), cause).toJson();
        FullHttpResponse replaced = response.replace(Unpooled.wrappedBuffer(body));
        response.release();
        replaced.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(RequestLogFilter.REQUEST_ID_HEADER, requestId);
        return replaced;
    }

    private OpenAiError error(HttpStatus status, Throwable cause) {
        if (cause instanceof TooLongHttpHeaderException) {
            return new OpenAiError(status, "The request headers are larger than the limit of " + maxHeaderBytes
                    + " bytes in total; send fewer or shorter headers.", OpenAiError.INVALID_REQUEST, null,
                    "request_header_fields_too_large");
        }
        if (cause instanceof TooLongHttpLineException) {
            return new OpenAiError(status, "The request line (method, path and query) is longer than the limit of "
                    + maxInitialLineBytes + " bytes; shorten the URL.", OpenAiError.INVALID_REQUEST, null, "uri_too_long");
        }
        return new OpenAiError(status, "The request is not valid HTTP/1.1, so it was not read; check the client"
                + " or proxy that sent it.", OpenAiError.INVALID_REQUEST, null, "invalid_http_request");
    }
}
