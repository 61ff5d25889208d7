package io.sparsemesh.tokenizer;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatMessage;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import io.sparsemesh.core.tokenizer.chat.GenerationPrompt;
import io.sparsemesh.core.tokenizer.chat.JinjaChatTemplate;
import io.sparsemesh.transport.tokenizer.ChatPrompt;
import io.sparsemesh.transport.tokenizer.DecodeSession;
import io.sparsemesh.transport.tokenizer.RemoteTokenizer;
import io.sparsemesh.transport.tokenizer.RemoteTokenizerException;
import io.sparsemesh.transport.tokenizer.TokenizerDescription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service and its client over real gRPC on loopback, serving the stories260K tokenizer: one
 * server with the model's own (absent) chat template, one with a Llama-2 style Jinja template.
 */
class TokenizerGrpcServiceTest {

    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside "
            + "in the sunshine. One day, she saw a big, red ball in the park.";
    /** Characters stories260K has no piece for: each arrives as 2 to 4 byte-fallback tokens. */
    private static final String MULTI_BYTE = "Crème brûlée, naïve café. 中文 and 日本語! 😀🙂👍 Ω≈ç";
    private static final String LLAMA2_STYLE = "{% for m in messages %}{% if m.role == 'user' %}{{ bos_token + '[INST] '"
            + " + m.content.strip() + ' [/INST]' }}{% elif m.role == 'assistant' %}{{ ' ' + m.content.strip() + ' '"
            + " + eos_token }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
            + "{% endfor %}";
    private static final TokenizerLimits LIMITS = new TokenizerLimits(4096, 1024);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private static Tokenizer local;
    private static SimpleMeterRegistry registry;
    private static Server server;
    private static Server jinjaServer;
    private static ManagedChannel channel;
    private static ManagedChannel jinjaChannel;
    private static RemoteTokenizer remote;
    private static RemoteTokenizer jinjaRemote;

    @BeforeAll
    static void start() throws IOException {
        local = Tokenizers.open(TestData.storiesGguf());
        registry = new SimpleMeterRegistry();
        server = startServer(new TokenizerGrpcService("stories260K.gguf", local, ChatTemplates.open(TestData.storiesGguf()),
                LIMITS, new TokenizerMetrics(registry)));
        JinjaChatTemplate llama2 = new JinjaChatTemplate(LLAMA2_STYLE, Map.of("bos_token", "<s>", "eos_token", "</s>"), "test");
        jinjaServer = startServer(new TokenizerGrpcService("stories260K.gguf", local, llama2, LIMITS,
                new TokenizerMetrics(new SimpleMeterRegistry())));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        jinjaChannel = NettyChannelBuilder.forAddress("127.0.0.1", jinjaServer.getPort()).usePlaintext().build();
        remote = new RemoteTokenizer(channel, CALL_TIMEOUT, Duration.ofMinutes(1));
        jinjaRemote = new RemoteTokenizer(jinjaChannel, CALL_TIMEOUT, Duration.ofMinutes(1));
    }

    private static Server startServer(TokenizerGrpcService service) throws IOException {
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (ManagedChannel c : List.of(channel, jinjaChannel)) {
            c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        for (Server s : List.of(server, jinjaServer)) {
            s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void encodeMatchesLocalTokenizer() {
        assertArrayEquals(local.encode(STORY, true), remote.encode(STORY, true));
        assertArrayEquals(local.encode(STORY, false), remote.encode(STORY, false));
        assertArrayEquals(local.encode(MULTI_BYTE, true), remote.encode(MULTI_BYTE, true));
    }

    @Test
    void decodeMatchesLocalTokenizer() {
        int[] ids = local.encode(STORY, true);
        assertEquals(local.decode(ids), remote.decode(ids));
        assertEquals(STORY, remote.decode(ids));
        assertEquals(MULTI_BYTE, remote.decode(local.encode(MULTI_BYTE, true)));
    }

    @Test
    void streamingNeverSplitsCharacters() {
        int[] ids = local.encode(MULTI_BYTE, true);
        List<String> chunks = new ArrayList<>();
        try (DecodeSession session = remote.openDecodeSession()) {
            for (int id : ids) {
                chunks.add(session.push(id));
            }
            chunks.add(session.finish());
        }
        for (String chunk : chunks) {
            assertFalse(chunk.contains("\uFFFD"), "chunk '" + chunk + "' of " + chunks);
        }
        assertEquals(local.decode(ids), String.join("", chunks));
        assertTrue(chunks.contains("😀"), "the emoji arrives whole in one chunk: " + chunks);
    }

    @Test
    void streamingAcceptsSeveralIdsPerPush() {
        int[] ids = local.encode(STORY + " " + MULTI_BYTE, true);
        StringBuilder text = new StringBuilder();
        try (DecodeSession session = remote.openDecodeSession()) {
            for (int from = 0; from < ids.length; from += 3) {
                String chunk = session.push(java.util.Arrays.copyOfRange(ids, from, Math.min(ids.length, from + 3)));
                assertFalse(chunk.contains("\uFFFD"), chunk);
                text.append(chunk);
            }
            text.append(session.finish());
        }
        assertEquals(local.decode(ids), text.toString());
    }

    @Test
    void finishEmitsUnfinishedCharacter() {
        int[] ids = local.encode("😀", false);
        try (DecodeSession session = remote.openDecodeSession()) {
            assertEquals(" ", session.push(ids[0], ids[1], ids[2]));
            assertEquals("\uFFFD", session.finish());
        }
    }

    @Test
    void sessionEndsAfterFinish() {
        try (DecodeSession session = remote.openDecodeSession()) {
            session.push(local.encode("Once", true));
            session.finish();
            assertThrows(IllegalStateException.class, () -> session.push(5));
        }
    }

    @Test
    void streamRejectsInvalidId() {
        try (DecodeSession session = remote.openDecodeSession()) {
            session.push(1, 2);
            RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> session.push(3, 512));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("token id 512"), e.getMessage());
            assertTrue(e.getMessage().contains("512 tokens"), e.getMessage());
        }
    }

    @Test
    void decodeRejectsInvalidIds() {
        for (int id : new int[] {512, -1, Integer.MAX_VALUE}) {
            RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> remote.decode(new int[] {1, id}));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("token id " + id + " at position 1"), e.getMessage());
            assertTrue(e.getMessage().contains("has 512 tokens (ids 0 to 511)"), e.getMessage());
        }
    }

    @Test
    void encodeRejectsEmptyText() {
        RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> remote.encode("", true));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("text is empty"), e.getMessage());
    }

    @Test
    void oversizedInputsAreRejected() {
        String large = "é".repeat(2049);
        RemoteTokenizerException encode = assertThrows(RemoteTokenizerException.class, () -> remote.encode(large, true));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, encode.code());
        assertTrue(encode.getMessage().contains("4098 bytes"), encode.getMessage());
        assertTrue(encode.getMessage().contains("limit of 4096 bytes"), encode.getMessage());

        RemoteTokenizerException decode = assertThrows(RemoteTokenizerException.class, () -> remote.decode(new int[1025]));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, decode.code());
        assertTrue(decode.getMessage().contains("1025 token ids"), decode.getMessage());

        List<ChatMessage> chat = List.of(new ChatMessage("user", large));
        RemoteTokenizerException template = assertThrows(RemoteTokenizerException.class,
                () -> remote.applyChatTemplate(chat, GenerationPrompt.ADD));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, template.code());
    }

    @Test
    void modelWithoutTemplateUsesLastUserMessage() {
        List<ChatMessage> chat = List.of(new ChatMessage("system", "Tell stories."), new ChatMessage("user", "Tell me"),
                new ChatMessage("assistant", "No."), new ChatMessage("user", "Once upon a time"));
        double droppedBefore = registry.counter("sparsemesh.tokenizer.chat.dropped.messages").count();
        ChatPrompt prompt = remote.applyChatTemplate(chat, GenerationPrompt.ADD);
        assertEquals("Once upon a time", prompt.prompt());
        assertArrayEquals(local.encode("Once upon a time", true), prompt.ids());
        assertEquals(droppedBefore + 3, registry.counter("sparsemesh.tokenizer.chat.dropped.messages").count());
    }

    @Test
    void jinjaTemplateRendersAndEncodes() {
        List<ChatMessage> chat = List.of(new ChatMessage("user", " Hi "), new ChatMessage("assistant", "Hello"),
                new ChatMessage("user", "Tell a story"));
        ChatPrompt prompt = jinjaRemote.applyChatTemplate(chat, GenerationPrompt.ADD);
        assertEquals("<s>[INST] Hi [/INST] Hello </s><s>[INST] Tell a story [/INST]", prompt.prompt());
        assertArrayEquals(local.encode(prompt.prompt(), false), prompt.ids());
    }

    @Test
    void templateRejectionIsInvalidArgument() {
        List<ChatMessage> chat = List.of(new ChatMessage("system", "x"), new ChatMessage("user", "y"));
        RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class,
                () -> jinjaRemote.applyChatTemplate(chat, GenerationPrompt.ADD));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("Only user and assistant roles are supported!"), e.getMessage());

        RemoteTokenizerException empty = assertThrows(RemoteTokenizerException.class,
                () -> jinjaRemote.applyChatTemplate(List.of(), GenerationPrompt.ADD));
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.code());
    }

    @Test
    void describeReportsVocabulary() {
        TokenizerDescription description = remote.describe();
        assertEquals("stories260K.gguf", description.model());
        assertEquals(512, description.vocabSize());
        assertEquals(1, description.bosId());
        assertEquals(Set.of(2), description.eosIds());
    }

    @Test
    void expiredDeadlineFailsCall() {
        RemoteTokenizer impatient = new RemoteTokenizer(channel, Duration.ofNanos(1), Duration.ofNanos(1));
        RemoteTokenizerException e = assertThrows(RemoteTokenizerException.class, () -> impatient.encode(STORY, true));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.code());
        try (DecodeSession session = impatient.openDecodeSession()) {
            RemoteTokenizerException stream = assertThrows(RemoteTokenizerException.class, () -> session.push(1));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, stream.code());
        }
    }

    @Test
    void metricsCountRequestsAndTokens() {
        double encodedBefore = registry.counter("sparsemesh.tokenizer.tokens", "operation", "encode").count();
        double okBefore = registry.counter("sparsemesh.tokenizer.requests", "method", "Encode", "status", "OK").count();
        int[] ids = remote.encode(STORY, true);
        assertEquals(encodedBefore + ids.length,
                registry.counter("sparsemesh.tokenizer.tokens", "operation", "encode").count());
        assertEquals(okBefore + 1, registry.counter("sparsemesh.tokenizer.requests", "method", "Encode", "status", "OK").count());
        assertTrue(registry.timer("sparsemesh.tokenizer.request.duration", "method", "Encode").count() >= 1);
    }

    @Test
    void utf8LengthCountsBytes() {
        for (String text : List.of("", "a", "é", "中", "😀", MULTI_BYTE)) {
            assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length,
                    TokenizerGrpcService.utf8Length(text), text);
        }
    }
}
