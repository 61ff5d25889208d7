package io.sparsemesh.gateway;

import io.sparsemesh.log.MeshLog;
import io.sparsemesh.log.RequestRecord;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Gives each request its id and logs it when it ends. The id is the client's {@code X-Request-Id}
 * when that is 1–128 characters of {@code [A-Za-z0-9._:-]}, else a new UUID; it is forwarded to the
 * router, returned to the client and written to the access log ({@code io.sparsemesh.gateway.access})
 * and to the {@code sparsemesh.requests} record. Runs first, for every path, so requests that
 * no route serves are logged too.
 */
final class RequestLogFilter implements WebFilter, Ordered {

    static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 10;
    static final String REQUEST_ID_HEADER = "X-Request-Id";
    static final String REQUEST_ID_ATTRIBUTE = RequestLogFilter.class.getName() + ".requestId";
    /** Status recorded when the client goes away before a response starts (nginx uses the same code). */
    static final int CLIENT_CLOSED_REQUEST = 499;

    private static final Logger access = LoggerFactory.getLogger("io.sparsemesh.gateway.access");
    private static final Pattern VALID_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final MeshLog meshLog;

    RequestLogFilter(MeshLog meshLog) {
        this.meshLog = meshLog;
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long startNanos = System.nanoTime();
        Instant received = Instant.now();
        String requestId = requestIdOf(exchange.getRequest());
        exchange.getAttributes().put(REQUEST_ID_ATTRIBUTE, requestId);

        CountingRequest request = new CountingRequest(exchange.getRequest().mutate()
                .headers(headers -> headers.set(REQUEST_ID_HEADER, requestId))
                .build());
        CountingResponse response = new CountingResponse(exchange.getResponse());
        response.beforeCommit(() -> {
            response.getHeaders().set(REQUEST_ID_HEADER, requestId);
            return Mono.empty();
        });
        ServerWebExchange logged = exchange.mutate().request(request).response(response).build();

        return chain.filter(logged)
                .doFinally(signal -> record(logged, request, response, requestId, received, startNanos, signal));
    }

    /** Returns the request id of an exchange that passed this filter, or null. */
    static String requestId(ServerWebExchange exchange) {
        return exchange.getAttribute(REQUEST_ID_ATTRIBUTE);
    }

    private static String requestIdOf(ServerHttpRequest request) {
        String sent = request.getHeaders().getFirst(REQUEST_ID_HEADER);
        return sent != null && VALID_REQUEST_ID.matcher(sent).matches() ? sent : UUID.randomUUID().toString();
    }

    private void record(ServerWebExchange exchange, CountingRequest request, CountingResponse response, String requestId,
                        Instant received, long startNanos, SignalType signal) {
        double latencyMs = (System.nanoTime() - startNanos) / 1e6;
        HttpStatusCode statusCode = response.getStatusCode();
        int status = signal == SignalType.CANCEL && !response.isCommitted() ? CLIENT_CLOSED_REQUEST
                : statusCode != null ? statusCode.value() : 200;
        Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
        String routeId = route == null ? null : route.getId();
        String apiKeyId = exchange.getAttribute(ApiKeyAuthenticationFilter.API_KEY_ID_ATTRIBUTE);
        String method = request.getMethod().name();
        String path = request.getPath().value();

        access.info("{} {} {} {} ms, {} bytes in, {} bytes out (request id {}, key {}, route {})", method, path, status,
                Math.round(latencyMs * 10) / 10.0, request.bytes.get(), response.bytes.get(), requestId, apiKeyId, routeId);
        meshLog.publish(new RequestRecord(requestId, received, method, path, routeId, apiKeyId, status, latencyMs,
                request.bytes.get(), response.bytes.get()));
    }

    /** Counts the request body bytes read. */
    private static final class CountingRequest extends ServerHttpRequestDecorator {
        final AtomicLong bytes = new AtomicLong();

        CountingRequest(ServerHttpRequest delegate) {
            super(delegate);
        }

        @Override
        public Flux<DataBuffer> getBody() {
            return super.getBody().doOnNext(buffer -> bytes.addAndGet(buffer.readableByteCount()));
        }
    }

    /** Counts the response body bytes written, streamed or not. */
    private static final class CountingResponse extends ServerHttpResponseDecorator {
        final AtomicLong bytes = new AtomicLong();

        CountingResponse(ServerHttpResponse delegate) {
            super(delegate);
        }

        @Override
        public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
            return super.writeWith(Flux.from(body).doOnNext(this::count));
        }

        @Override
        public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
            return super.writeAndFlushWith(Flux.from(body).map(chunk -> Flux.from(chunk).doOnNext(this::count)));
        }

        private void count(DataBuffer buffer) {
            bytes.addAndGet(buffer.readableByteCount());
        }
    }
}
