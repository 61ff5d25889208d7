package io.sparsemesh.standalone;

import io.grpc.ManagedChannel;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.Transformer;
import io.sparsemesh.core.engine.TransformerLoader;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.attention.AttentionReplica;
import io.sparsemesh.transport.attention.RemoteAttention;
import io.sparsemesh.transport.attention.RemoteAttentionOptions;
import io.sparsemesh.transport.discovery.Channels;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import io.sparsemesh.transport.experts.RemoteExperts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A router-side {@link Transformer} in the test JVM whose attention and experts run in the
 * services of a running {@link ProcessMesh}, connected as the router process connects, with the
 * topology's wire dtype and dense placement. It returns what the Generation API does not: logits.
 * The attention service rejects a sequence id that another stream holds, so run it while the
 * router is idle or with sequence ids that the router does not use.
 */
final class MeshTransformer implements AutoCloseable {

    private final List<ManagedChannel> attentionChannels = new ArrayList<>();
    private final RemoteExperts experts;
    private final Transformer transformer;

    MeshTransformer(ModelCheckpoint checkpoint, MeshTopology topology, List<MeshTopology.Service> services) {
        ModelConfig config = checkpoint.config();
        Map<String, String> targets = topology.routerProperties(services);
        WireDType wireDType = WireDType.valueOf("WIRE_DTYPE_" + topology.wireDtype());
        ExpertShard.DensePlacement densePlacement = ExpertShard.DensePlacement.valueOf(topology.densePlacement());

        List<EndpointGroup> shards = new ArrayList<>();
        for (int shard = 0; shard < topology.shards(); shard++) {
            String spec = targets.get("sparsemesh.router.mesh.expert-shards[" + shard + "]");
            shards.add(EndpointGroup.open("expert-shard-" + shard, TargetSource.parse(spec, Duration.ofMinutes(1)),
                    Duration.ofSeconds(2)));
        }
        experts = new RemoteExperts(new ShardLayout(topology.shards()), config.hiddenSize(), shards,
                RemoteExperts.Options.defaults().withWireDType(wireDType));

        List<AttentionReplica> replicas = new ArrayList<>();
        for (int a = 0; a < topology.attentionReplicas(); a++) {
            String target = targets.get("sparsemesh.router.mesh.attention[" + a + "]");
            ManagedChannel channel = Channels.open(target, Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
            attentionChannels.add(channel);
            replicas.add(new AttentionReplica(target, channel));
        }
        try {
            RemoteAttention attention = RemoteAttention.connect(config, replicas,
                    RemoteAttentionOptions.defaults().withWireDType(wireDType));
            transformer = TransformerLoader.loadRouter(config, checkpoint.store(), attention, experts, densePlacement);
        } catch (RuntimeException e) {
            experts.close();
            attentionChannels.forEach(ManagedChannel::shutdownNow);
            throw e;
        }
    }

    Transformer transformer() {
        return transformer;
    }

    /** Closes the attention streams, the expert groups and the attention channels. */
    @Override
    public void close() throws InterruptedException {
        transformer.close();
        experts.close();
        for (ManagedChannel channel : attentionChannels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
