package io.sparsemesh.gateway;

import io.sparsemesh.log.RateLimitedLog;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.PrematureCloseException;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;

/**
 * Gives every error the gateway produces an OpenAI-shaped JSON body: errors raised further down
 * the chain (unknown paths, authentication, timeouts, an unreachable router) and responses that
 * Spring Cloud Gateway's filters end without a body ({@code RequestRateLimiter}'s 429,
 * {@code RequestSize}'s 413). Responses from the router pass through unchanged.
 */
final class OpenAiErrorFilter implements WebFilter, Ordered {

    /** Header in which Spring Cloud Gateway's {@code RequestSize} filter puts its message. */
    private static final String ERROR_MESSAGE_HEADER = "errorMessage";

    /** Runs just inside {@link RequestLogFilter}, so the request log records the final status. */
    static final int ORDER = RequestLogFilter.ORDER + 1;

    private static final Logger log = LoggerFactory.getLogger(OpenAiErrorFilter.class);
    /** While the router is down every request fails the same way, so the warning is rate-limited. */
    private static final RateLimitedLog routerDownLog = new RateLimitedLog(log, Duration.ofSeconds(10));

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerWebExchange decorated = exchange.mutate().response(new ErrorBodyResponse(exchange)).build();
        return chain.filter(decorated).onErrorResume(error -> render(decorated, error));
    }

    private static Mono<Void> render(ServerWebExchange exchange, Throwable failure) {
        String requestId = RequestLogFilter.requestId(exchange);
        if (exchange.getResponse().isCommitted()) {
            log.warn("Request {} failed after its response started; closing the connection: {}", requestId, failure.toString());
            return Mono.error(failure);
        }
        OpenAiError error = toOpenAiError(exchange, failure, requestId);
        return error.writeTo(exchange.getResponse());
    }

    private static OpenAiError toOpenAiError(ServerWebExchange exchange, Throwable failure, String requestId) {
        if (failure instanceof OpenAiErrorException e) {
            return e.error();
        }
        if (failure instanceof ResponseStatusException e) {
            return forStatus(exchange, e.getStatusCode(), e.getReason());
        }
        if (failure instanceof ConnectException) {
            // 503 rather than 502: the router is down or restarting, it did not send a bad response
            routerDownLog.warn("The router is unreachable; responding with 503 (last: request " + requestId + ")",
                    failure.toString());
            return new OpenAiError(HttpStatus.SERVICE_UNAVAILABLE, "The model server is unavailable; retry later.",
                    OpenAiError.SERVER_ERROR, null, "unavailable");
        }
        if (connectionLost(failure)) {
            log.warn("Request {}: the router closed the connection before responding: {}", requestId, failure.toString());
            return new OpenAiError(HttpStatus.BAD_GATEWAY, "The model server closed the connection before responding;"
                    + " retry the request.", OpenAiError.SERVER_ERROR, null, "bad_gateway");
        }
        log.error("Request {} failed in the gateway", requestId, failure);
        return new OpenAiError(HttpStatus.INTERNAL_SERVER_ERROR,
                "The gateway failed to handle the request; quote request id " + requestId + " when reporting it.",
                OpenAiError.SERVER_ERROR, null, null);
    }

    /**
     * Returns whether {@code failure} or one of its causes is the router's connection ending before
     * its response: a close seen by Reactor Netty ({@link PrematureCloseException}), or a reset (RST)
     * or broken pipe that the socket reports as an {@link IOException}. Netty's native transport reports
     * a reset as {@code NativeIoException: recvAddress(..) failed: Connection reset by peer}, and the
     * NIO transport as {@code SocketException: Connection reset}, so both are matched by message.
     */
    static boolean connectionLost(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof PrematureCloseException) {
                return true;
            }
            String message = cause.getMessage();
            if (cause instanceof IOException && message != null
                    && (message.contains("Connection reset") || message.contains("Broken pipe"))) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    /** Builds the error for a status, with {@code detail} (may be null) where the status carries one. */
    static OpenAiError forStatus(ServerWebExchange exchange, HttpStatusCode status, String detail) {
        return switch (status.value()) {
            case 404 -> new OpenAiError(status, "Invalid URL (" + exchange.getRequest().getMethod().name() + " "
                    + exchange.getRequest().getPath().value() + "): this server serves the OpenAI API under /v1/.",
                    OpenAiError.INVALID_REQUEST, null, null);
            case 413 -> new OpenAiError(status, detail != null ? detail : "The request body is larger than this server accepts.",
                    OpenAiError.INVALID_REQUEST, null, "request_too_large");
            case 429 -> new OpenAiError(status, "Rate limit reached for this API key; " + retryHint(exchange),
                    "requests", null, "rate_limit_exceeded");
            case 504 -> new OpenAiError(status, "The model server did not respond in time; retry later or with a"
                    + " smaller request.", OpenAiError.SERVER_ERROR, null, "timeout");
            default -> new OpenAiError(status, detail != null ? detail : reasonPhrase(status),
                    status.is5xxServerError() ? OpenAiError.SERVER_ERROR : OpenAiError.INVALID_REQUEST, null, null);
        };
    }

    private static String retryHint(ServerWebExchange exchange) {
        String seconds = exchange.getResponse().getHeaders().getFirst(HttpHeaders.RETRY_AFTER);
        return seconds == null ? "retry later." : "retry after " + seconds + (seconds.equals("1") ? " second." : " seconds.");
    }

    private static String reasonPhrase(HttpStatusCode status) {
        HttpStatus known = HttpStatus.resolve(status.value());
        return known != null ? known.getReasonPhrase() : "HTTP status " + status.value();
    }

    /** Writes the OpenAI body for an error status that is completed without one. */
    private static final class ErrorBodyResponse extends ServerHttpResponseDecorator {
        private final ServerWebExchange exchange;
        private volatile boolean bodyWritten;

        ErrorBodyResponse(ServerWebExchange exchange) {
            super(exchange.getResponse());
            this.exchange = exchange;
        }

        @Override
        public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
            bodyWritten = true;
            return super.writeWith(body);
        }

        @Override
        public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
            bodyWritten = true;
            return super.writeAndFlushWith(body);
        }

        @Override
        public Mono<Void> setComplete() {
            HttpStatusCode status = getStatusCode();
            if (bodyWritten || isCommitted() || status == null || !status.isError()) {
                return super.setComplete();
            }
            bodyWritten = true;
            ServerHttpResponse response = getDelegate();
            // RequestSize puts its message in this header; the body carries it instead
            String detail = response.getHeaders().getFirst(ERROR_MESSAGE_HEADER);
            response.getHeaders().remove(ERROR_MESSAGE_HEADER);
            return forStatus(exchange, status, detail).writeTo(response);
        }
    }
}
