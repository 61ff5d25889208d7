package io.sparsemesh.expert;

import io.grpc.Status;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.engine.EngineOptions;
import io.sparsemesh.core.engine.FailureCode;
import io.sparsemesh.core.engine.RowsFailedException;
import io.sparsemesh.core.engine.SequencesFailedException;
import io.sparsemesh.core.engine.Scheduler;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.experts.RemoteExperts;
import io.sparsemesh.transport.experts.ShardUnavailableException;
import io.sparsemesh.transport.experts.ShardedTransformerLoader;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When every replica of a shard is gone, calls that need the shard fail with UNAVAILABLE naming it; others go on. */
class ShardUnavailableTest {

    static final RemoteExperts.Options F32 = RemoteExperts.Options.defaults().withWireDType(WireDType.WIRE_DTYPE_F32);

    @Test
    void routedCallNamesTheLostShard() throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.deepseekTiny(), null);
             ShardCluster cluster = ShardCluster.start(TestModels.deepseekTiny(), 2, 2, DensePlacement.SHARDS,
                     ShardCluster.Interceptors.NONE);
             RemoteExperts experts = cluster.remoteExperts(checkpoint.config().hiddenSize(), F32)) {
            ModelConfig config = checkpoint.config();
            int hidden = config.hiddenSize();
            float[] input = randomRows(3, hidden);
            // row 0 spans both shards, row 1 only shard 0 (even ids), row 2 only shard 1 (odd ids)
            ExpertRouting routing = new ExpertRouting(3, 2, new int[] {0, 1, 2, 4, 3, 5},
                    new float[] {0.75f, 0.5f, 1.25f, 0.25f, 0.5f, 0.5f});
            float[] remote = new float[3 * hidden];
            experts.forwardRouted(1, input, 3, routing, remote);

            float[] local = new float[3 * hidden];
            ExpertShard whole = ExpertShard.load(checkpoint.store(), config, new ShardLayout(1), 0, DensePlacement.ROUTER);
            whole.forwardRouted(1, input, 3, routing, local);
            assertArrayEquals(local, remote, "2 shards against one shard holding every expert");

            cluster.kill(1, 0);
            cluster.kill(1, 1);

            // rows routed to shard 0 alone still work
            ExpertRouting evenOnly = new ExpertRouting(1, 2, new int[] {2, 4}, new float[] {1.25f, 0.25f});
            float[] evenRow = new float[hidden];
            experts.forwardRouted(2, input, 1, evenOnly, evenRow);
            assertTrue(evenRow[0] != 0 || evenRow[1] != 0, "no output for a row on the surviving shard");

            RowsFailedException rowsFailed = assertThrows(RowsFailedException.class,
                    () -> experts.forwardRouted(1, input, 3, routing, remote));
            assertArrayEquals(new int[] {0, 2}, rowsFailed.rows(), "rows routed to the lost shard");
            assertEquals(FailureCode.UNAVAILABLE, rowsFailed.code());
            ShardUnavailableException error = assertInstanceOf(ShardUnavailableException.class, rowsFailed.getCause());
            assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
            assertEquals(1, error.shard());
            assertTrue(error.getMessage().startsWith("UNAVAILABLE"), error.getMessage());
            assertTrue(error.getMessage().contains("expert shard 1"), error.getMessage());
            assertTrue(error.getMessage().contains(cluster.node(1, 0).target()), error.getMessage());
            assertTrue(error.getMessage().contains(cluster.node(1, 1).target()), error.getMessage());
        }
    }

    @Test
    void denseCallNamesTheLostShard() throws Exception {
        try (ShardCluster cluster = ShardCluster.start(TestModels.stories(), 2, 1, DensePlacement.SHARDS,
                ShardCluster.Interceptors.NONE);
             ModelCheckpoint checkpoint = Checkpoints.open(TestModels.stories(), null);
             RemoteExperts experts = cluster.remoteExperts(checkpoint.config().hiddenSize(), F32)) {
            int hidden = checkpoint.config().hiddenSize();
            float[] output = new float[2 * hidden];
            experts.forwardDense(3, randomRows(2, hidden), 2, output);

            cluster.kill(1, 0);

            experts.forwardDense(2, randomRows(2, hidden), 2, output); // layer 2 lives on shard 0
            RowsFailedException rowsFailed = assertThrows(RowsFailedException.class,
                    () -> experts.forwardDense(3, randomRows(2, hidden), 2, output));
            assertArrayEquals(new int[] {0, 1}, rowsFailed.rows(), "every row of a dense layer on the lost shard");
            ShardUnavailableException error = assertInstanceOf(ShardUnavailableException.class, rowsFailed.getCause());
            assertEquals(1, error.shard());
            assertTrue(error.getMessage().contains("UNAVAILABLE: expert shard 1"), error.getMessage());
        }
    }

    @Test
    void generationEndsWithTheShardError() throws Exception {
        try (ModelCheckpoint checkpoint = Checkpoints.open(TestModels.deepseekTiny(), null);
             ShardCluster cluster = ShardCluster.start(TestModels.deepseekTiny(), 2, 1, DensePlacement.SHARDS,
                     ShardCluster.Interceptors.NONE);
             RemoteExperts experts = cluster.remoteExperts(checkpoint.config().hiddenSize(), F32);
             Scheduler scheduler = new Scheduler(ShardedTransformerLoader.withLocalAttention(checkpoint.config(),
                     checkpoint.store(), Generations.CONTEXT, experts, DensePlacement.SHARDS),
                     EngineOptions.defaults(Generations.CONTEXT))) {
            assertEquals(4, Generations.generate(scheduler, new int[] {0, 5, 9}, 4).length);

            cluster.kill(0, 0);

            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> Generations.submit(scheduler, new int[] {0, 5, 9}, 4).get(60, TimeUnit.SECONDS));
            SequencesFailedException ended = assertInstanceOf(SequencesFailedException.class, failure.getCause());
            assertEquals(FailureCode.UNAVAILABLE, ended.code());
            assertTrue(ended.getMessage().contains("expert shard 0"), ended.getMessage());
            ShardUnavailableException error = assertInstanceOf(ShardUnavailableException.class,
                    ended.getCause().getCause());
            assertEquals(0, error.shard());
        }
    }

    private static float[] randomRows(int rows, int hidden) {
        Random random = new Random(rows * 31L + hidden);
        float[] values = new float[rows * hidden];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
