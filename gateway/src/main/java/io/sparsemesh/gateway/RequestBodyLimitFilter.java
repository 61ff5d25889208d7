package io.sparsemesh.gateway;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.util.unit.DataSize;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps request bodies sent without {@code Content-Length} (chunked): the body fails with 413 as
 * soon as it passes the limit. Bodies with a {@code Content-Length} are checked up front by the
 * route's {@code RequestSize} filter.
 */
final class RequestBodyLimitFilter implements GlobalFilter, Ordered {

    static final int ORDER = ApiKeyAuthenticationFilter.ORDER + 1;

    private final long maxBytes;

    RequestBodyLimitFilter(DataSize maxSize) {
        this.maxBytes = maxSize.toBytes();
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        if (exchange.getRequest().getHeaders().getContentLength() >= 0) {
            return chain.filter(exchange);
        }
        return chain.filter(exchange.mutate().request(new LimitedRequest(exchange.getRequest(), maxBytes)).build());
    }

    private static final class LimitedRequest extends ServerHttpRequestDecorator {
        private final long maxBytes;

        LimitedRequest(ServerHttpRequest delegate, long maxBytes) {
            super(delegate);
            this.maxBytes = maxBytes;
        }

        @Override
        public Flux<DataBuffer> getBody() {
            AtomicLong seen = new AtomicLong();
            return super.getBody().handle((buffer, sink) -> {
                if (seen.addAndGet(buffer.readableByteCount()) > maxBytes) {
                    DataBufferUtils.release(buffer);
                    sink.error(new OpenAiErrorException(new OpenAiError(HttpStatus.PAYLOAD_TOO_LARGE,
                            "The request body is larger than the limit of " + maxBytes + " bytes.",
                            OpenAiError.INVALID_REQUEST, null, "request_too_large")));
                } else {
                    sink.next(buffer);
                }
            });
        }
    }
}
