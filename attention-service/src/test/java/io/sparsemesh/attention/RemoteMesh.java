package io.sparsemesh.attention;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.LocalEngine;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.LayerRange;
import io.sparsemesh.transport.attention.RemoteAttention;
import io.sparsemesh.transport.attention.RemoteAttentionOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Attention replicas on loopback and a router-side {@link Transformer} whose attention runs in
 * them through {@link RemoteAttention}, for one model.
 */
final class RemoteMesh implements AutoCloseable {

    final ModelCheckpoint checkpoint;
    final List<RunningReplica> replicas = new ArrayList<>();
    final RemoteAttention attention;
    final Transformer transformer;
    final int contextLength;

    /**
     * @param ranges one entry per replica: its layer range, or null for all layers
     */
    RemoteMesh(Path model, List<LayerRange> ranges, AttentionLimits limits, WireDType dtype) {
        this(model, ranges, limits, RemoteAttentionOptions.defaults().withWireDType(dtype));
    }

    RemoteMesh(Path model, List<LayerRange> ranges, AttentionLimits limits, RemoteAttentionOptions options) {
        checkpoint = Checkpoints.open(model, null);
        ModelConfig config = checkpoint.config();
        contextLength = limits.contextLength();
        try {
            List<AttentionReplica> endpoints = new ArrayList<>();
            for (LayerRange range : ranges) {
                RunningReplica replica = RunningReplica.start(model, range, limits);
                replicas.add(replica);
                endpoints.add(replica.replica());
            }
            attention = RemoteAttention.connect(config, endpoints, options);
            transformer = RouterTransformers.load(config, checkpoint.store(), attention);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts one replica over all layers of {@code model}, with roomy limits and the engine's default context. */
    static RemoteMesh single(Path model, WireDType dtype) {
        return replicated(model, 1, dtype);
    }

    /** Starts {@code count} replicas over all layers, with roomy limits and the engine's default context. */
    static RemoteMesh replicated(Path model, int count, WireDType dtype) {
        List<LayerRange> ranges = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ranges.add(null);
        }
        return new RemoteMesh(model, ranges, RunningReplica.roomyLimits(defaultContext(model)), dtype);
    }

    /** Returns the context that {@link LocalEngine#open} uses for {@code model}. */
    static int defaultContext(Path model) {
        try (ModelCheckpoint checkpoint = Checkpoints.open(model, null)) {
            return Math.min(checkpoint.config().maxPositionEmbeddings(), LocalEngine.DEFAULT_MAX_CONTEXT);
        }
    }

    ModelConfig config() {
        return checkpoint.config();
    }

    /** Loads the whole model in this process, on the same mapped weights, as the reference. */
    Transformer localTransformer() {
        return TransformerLoader.loadLocal(config(), checkpoint.store(), contextLength);
    }

    RunningReplica replica(int index) {
        return replicas.get(index);
    }

    @Override
    public void close() {
        if (transformer != null) {
            transformer.close();
        } else if (attention != null) {
            attention.close();
        }
        for (RunningReplica replica : replicas) {
            try {
                replica.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        checkpoint.close();
    }
}
