package io.sparsemesh.router;

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
import io.sparsemesh.core.tokenizer.Tokenizer;
import io.sparsemesh.core.tokenizer.Tokenizers;
import io.sparsemesh.core.tokenizer.chat.ChatTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the router: the checkpoint, attention and expert backends, the scheduler and the front ends. */
@Configuration(proxyBeanMethods = false)
class RouterConfiguration {

    private static final Logger log = LoggerFactory.getLogger(RouterConfiguration.class);

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
        if (!properties.mesh().attention().isEmpty()) {
            throw new IllegalStateException("remote attention replicas are configured ("
                    + properties.mesh().attention() + "), but this build has no attention client yet");
        }
        ModelConfig config = checkpoint.config();
        AttentionLayer[] layers = new AttentionLayer[config.numLayers()];
        for (int layer = 0; layer < layers.length; layer++) {
            layers[layer] = TransformerLoader.loadAttention(checkpoint.store(), config, layer);
        }
        log.info("Attention runs in the router: {} layers", layers.length);
        return new LocalAttention(layers, 0, options.contextLength());
    }

    @Bean
    ExpertBackend expertBackend(RouterProperties properties, ModelCheckpoint checkpoint, ShardLayout layout) {
        if (!properties.mesh().expertShards().isEmpty()) {
            throw new IllegalStateException("remote expert shards are configured ("
                    + properties.mesh().expertShards() + "), but this build has no expert client yet");
        }
        return ExpertShard.load(checkpoint.store(), checkpoint.config(), layout, 0, properties.mesh().densePlacement());
    }

    @Bean(destroyMethod = "close")
    Scheduler scheduler(RouterProperties properties, ModelCheckpoint checkpoint, AttentionBackend attention,
                        ExpertBackend experts, EngineOptions options, RouterMetrics metrics) {
        Transformer model = TransformerLoader.loadRouter(checkpoint.config(), checkpoint.store(), attention, experts,
                properties.mesh().densePlacement(), metrics);
        return new Scheduler(model, options, metrics);
    }

    @Bean
    TextCodec textCodec(ModelCheckpoint checkpoint) {
        if (checkpoint.tokenizer() == null) {
            throw new IllegalStateException("the checkpoint " + checkpoint.path() + " has no tokenizer; set"
                    + " sparsemesh.router.tokenizer to a tokenizer file");
        }
        Tokenizer tokenizer = Tokenizers.open(checkpoint.tokenizer());
        return new LocalTextCodec(tokenizer, ChatTemplates.open(checkpoint.tokenizer()));
    }

    @Bean
    GenerationService generationService(RouterProperties properties, Scheduler scheduler, TextCodec codec,
                                        ModelCheckpoint checkpoint) {
        return new GenerationService(properties.resolvedModelId(), scheduler, codec, checkpoint.config().vocabSize());
    }

    @Bean
    GenerationGrpcService generationGrpcService(GenerationService generations, ModelCheckpoint checkpoint) {
        return new GenerationGrpcService(generations, checkpoint.config().architecture().huggingFaceName());
    }
}
