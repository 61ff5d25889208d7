package io.sparsemesh.expert;

import io.grpc.Server;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.discovery.EndpointGroup;
import io.sparsemesh.transport.discovery.TargetSource;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.experts.ShardedTransformerLoader;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The embedded mode: expert shards on in-process servers, reached through {@code in-process:<name>} targets. */
class InProcessShardsTest {

    @Test
    void storiesOverInProcessShards() throws Exception {
        List<HostedShard> shards = new ArrayList<>();
        List<Server> servers = new ArrayList<>();
        List<EndpointGroup> groups = new ArrayList<>();
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.stories(), null)) {
            for (int shard = 0; shard < 3; shard++) {
                HostedShard hosted = HostedShard.load(TestModels.stories(), shard, 3, DensePlacement.SHARDS);
                shards.add(hosted);
                String name = "experts-" + shard + "-" + System.identityHashCode(shards);
                servers.add(InProcessServerBuilder.forName(name)
                        .addService(new ExpertsGrpcService(hosted, new SimpleMeterRegistry(), 4096)).build().start());
                groups.add(EndpointGroup.open("expert-shard-" + shard,
                        TargetSource.parse(TargetSource.IN_PROCESS_PREFIX + name, Duration.ofSeconds(30)), Duration.ofSeconds(5)));
            }
            try (RemoteExperts experts = new RemoteExperts(new ShardLayout(3), checkpoint.config().hiddenSize(), groups,
                    RemoteExperts.Options.defaults().withWireDType(WireDType.WIRE_DTYPE_F32));
                 Scheduler scheduler = new Scheduler(ShardedTransformerLoader.withLocalAttention(checkpoint.config(),
                         checkpoint.store(), Generations.CONTEXT, experts, DensePlacement.SHARDS),
                         EngineOptions.defaults(Generations.CONTEXT))) {
                assertArrayEquals(RemoteExpertsEquivalenceTest.LLAMA_CPP_TOKENS,
                        Generations.generate(scheduler, RemoteExpertsEquivalenceTest.STORIES_PROMPT, 16));
            }
        } finally {
            for (Server server : servers) {
                server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
            shards.forEach(HostedShard::close);
        }
    }
}
