package io.sparsemesh.router;

import io.grpc.Channel;
import io.micrometer.core.instrument.MeterRegistry;
import io.sparsemesh.core.attention.AttentionLayer;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.AttentionBackend;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.LocalAttention;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.router.health.BackendProbe;
import io.sparsemesh.router.log.GenerationEventsDecorator;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.RemoteAttention;
import io.sparsemesh.transport.attention.RemoteAttentionOptions;
import io.sparsemesh.transport.discovery.Channels;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.tokenizer.RemoteTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Wires the router: the checkpoint, attention and expert backends, the scheduler and the front ends. */
@Configuration(proxyBeanMethods = false)
class RouterConfiguration {

    private static final Logger log = LoggerFactory.getLogger(RouterConfiguration.class);

    /** How often DNS endpoint groups (Kubernetes headless services) are looked up again. */
    private static final Duration DNS_REFRESH = Duration.ofSeconds(10);

    /** How long a failed replica sits out before it is tried again. */
    private static final Duration REPLICA_RETRY_AFTER = Duration.ofSeconds(2);

    @Bean(destroyMethod = "")
    ModelCheckpoint modelCheckpoint(RouterProperties properties) {
        return Checkpoints.open(properties.model(), properties.tokenizer());
    }

    @Bean
    EngineOptions engineOptions(RouterProperties properties, ModelCheckpoint checkpoint) {
        RouterProperties.Scheduler scheduler = properties.scheduler();
        int context = scheduler.contextLength() != null ? scheduler.contextLength()
                : Math.min(checkpoint.config().maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        return new EngineOptions(scheduler.maxStepTokens(), scheduler.maxPrefillChunk(), scheduler.maxSequences(), context);
    }

    @Bean
    ShardLayout shardLayout(RouterProperties properties) {
        return new ShardLayout(Math.max(1, properties.mesh().expertShards().size()));
    }

    @Bean
    RouterMetrics routerMetrics(MeterRegistry registry, ModelCheckpoint checkpoint, ShardLayout layout) {
        return new RouterMetrics(registry, checkpoint.config(), layout);
    }

    @Bean
    AttentionBackend attentionBackend(RouterProperties properties, ModelCheckpoint checkpoint, EngineOptions options) {
        ModelConfig config = checkpoint.config();
        RouterProperties.Mesh mesh = properties.mesh();
        if (!mesh.attention().isEmpty()) {
            List<AttentionReplica> replicas = new ArrayList<>();
            for (String target : mesh.attention()) {
                replicas.add(new AttentionReplica(target,
                        Channels.open(target, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES)));
            }
            RemoteAttentionOptions remote = RemoteAttentionOptions.defaults()
                    .withWireDType(wireDType(mesh))
                    .withResponseTimeout(mesh.callTimeout());
            log.info("Attention runs on {} replica(s): {}", replicas.size(), mesh.attention());
            return RemoteAttention.connect(config, replicas, remote);
        }
        AttentionLayer[] layers = new AttentionLayer[config.numLayers()];
        for (int layer = 0; layer < layers.length; layer++) {
            layers[layer] = TransformerLoader.loadAttention(checkpoint.store(), config, layer);
        }
        log.info("Attention runs in the router: {} layers", layers.length);
        return new LocalAttention(layers, 0, options.contextLength());
    }

    @Bean
    ExpertBackend expertBackend(RouterProperties properties, ModelCheckpoint checkpoint, ShardLayout layout) {
        RouterProperties.Mesh mesh = properties.mesh();
        if (!mesh.expertShards().isEmpty()) {
            List<EndpointGroup> groups = new ArrayList<>();
            for (int shard = 0; shard < mesh.expertShards().size(); shard++) {
                groups.add(EndpointGroup.open("expert-shard-" + shard,
                        TargetSource.parse(mesh.expertShards().get(shard), DNS_REFRESH), REPLICA_RETRY_AFTER));
            }
            RemoteExperts.Options remote = RemoteExperts.Options.defaults()
                    .withWireDType(wireDType(mesh))
                    .withRequestTimeout(mesh.callTimeout());
            log.info("Experts run on {} shard(s): {}", groups.size(), mesh.expertShards());
            return new RemoteExperts(layout, checkpoint.config().hiddenSize(), groups, remote);
        }
        return ExpertShard.load(checkpoint.store(), checkpoint.config(), layout, 0, mesh.densePlacement());
    }

    private static WireDType wireDType(RouterProperties.Mesh mesh) {
        return mesh.wireDtype() == RouterProperties.WireDtype.F32 ? WireDType.WIRE_DTYPE_F32 : WireDType.WIRE_DTYPE_BF16;
    }

    @Bean(destroyMethod = "close")
    Scheduler scheduler(RouterProperties properties, ModelCheckpoint checkpoint, AttentionBackend attention,
                        ExpertBackend experts, EngineOptions options, RouterMetrics metrics, MeterRegistry registry) {
        int layers = checkpoint.config().numLayers();
        Transformer model = TransformerLoader.loadRouter(checkpoint.config(), checkpoint.store(),
                HopTimers.timed(attention, registry, layers), HopTimers.timed(experts, registry, layers),
                properties.mesh().densePlacement(), metrics);
        model.setPingPong(properties.pingPong());
        if (properties.pingPong()) {
            log.info("Ping-pong is on: steps over two or more sequences run as two overlapping micro-batches");
        }
        return new Scheduler(model, options, metrics);
    }

    @Bean
    TextCodec textCodec(RouterProperties properties, ModelCheckpoint checkpoint) {
        LocalTextCodec local = checkpoint.tokenizer() == null ? null
                : new LocalTextCodec(Tokenizers.open(checkpoint.tokenizer()), ChatTemplates.open(checkpoint.tokenizer()));
        String service = properties.mesh().tokenizer();
        if (service != null && !service.isBlank()) {
            log.info("Prompts are encoded by the tokenizer service at {}", service);
            RemoteTokenizer remote = new RemoteTokenizer(Channels.open(service, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES),
                    properties.mesh().callTimeout(), Duration.ofHours(1));
            return new RemoteTextCodec(remote, local == null ? null : local::newDecoder);
        }
        if (local == null) {
            log.warn("The checkpoint {} has no tokenizer: prompts must be token ids and output carries ids only;"
                    + " set sparsemesh.router.tokenizer to a tokenizer file to serve text", checkpoint.path());
            return new IdsOnlyTextCodec();
        }
        return local;
    }

    /** Checks the remote tokenizer, attention replicas and expert shards for the readiness group. */
    @Bean
    BackendProbe backendProbe(RouterProperties properties, AttentionBackend attention, ExpertBackend experts,
                              TextCodec codec) {
        String tokenizerTarget = null;
        Channel tokenizerChannel = null;
        if (codec instanceof RemoteTextCodec remote) {
            tokenizerTarget = properties.mesh().tokenizer();
            tokenizerChannel = remote.tokenizer().channel();
        }
        RouterProperties.HealthCheck settings = properties.healthCheck();
        return new BackendProbe(tokenizerTarget, tokenizerChannel,
                attention instanceof RemoteAttention remote ? remote.replicaRanges() : Map.of(),
                experts instanceof RemoteExperts remote ? remote.shards() : List.of(),
                settings.timeout(), settings.timeToLive());
    }

    @Bean
    GenerationService generationService(RouterProperties properties, Scheduler scheduler, TextCodec codec,
                                        ModelCheckpoint checkpoint, GenerationEventsDecorator generationLog) {
        return new GenerationService(properties.resolvedModelId(), scheduler, codec, checkpoint.config().vocabSize(),
                generationLog);
    }

    @Bean
    GenerationGrpcService generationGrpcService(GenerationService generations, ModelCheckpoint checkpoint) {
        return new GenerationGrpcService(generations, checkpoint.config().architecture().huggingFaceName());
    }
}
