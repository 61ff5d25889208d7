package io.sparsemesh.expert;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.core.moe.ShardLayout;
import io.sparsemesh.protocol.v1.DescribeExpertsRequest;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.ExpertShardInfo;
import io.sparsemesh.protocol.v1.ExpertsGrpc;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;
import io.sparsemesh.transport.discovery.Channels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Experts service of the tiny DeepSeek-V3 split over 2 shards, called over loopback: what each
 * shard maps and describes, its results against a shard holding every expert, and the requests
 * it rejects.
 */
class ExpertsGrpcServiceTest {

    static final int HIDDEN = 64;

    static ShardCluster cluster;
    static ModelCheckpoint checkpoint;
    static ManagedChannel shard0;
    static ManagedChannel shard1;

    @BeforeAll
    static void start() throws Exception {
        cluster = ShardCluster.start(TestModels.deepseekTiny(), 2, 1, DensePlacement.SHARDS, ShardCluster.Interceptors.NONE);
        checkpoint = Checkpoints.open(TestModels.deepseekTiny(), null);
        shard0 = Channels.open(cluster.node(0, 0).target(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
        shard1 = Channels.open(cluster.node(1, 0).target(), Channels.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
    }

    @AfterAll
    static void stop() throws Exception {
        shard0.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        shard1.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        checkpoint.close();
        cluster.close();
    }

    @Test
    void describeListsOwnExpertsAndBytes() {
        TensorStore store = checkpoint.store();
        long wholeModel = store.tensorNames().stream().mapToLong(name -> store.info(name).byteSize()).sum();

        ExpertShardInfo first = describe(shard0);
        assertEquals("deepseek_v3_tiny", first.getModel());
        assertEquals(0, first.getShard());
        assertEquals(2, first.getShardCount());
        assertEquals(List.of(0, 2, 4, 6), first.getExpertIdsList());
        assertEquals(List.of(0), first.getDenseLayersList());
        assertEquals(expectedBytes(store, List.of(0, 2, 4, 6), List.of(0)), first.getMappedBytes());

        ExpertShardInfo second = describe(shard1);
        assertEquals(List.of(1, 3, 5, 7), second.getExpertIdsList());
        assertEquals(List.of(), second.getDenseLayersList());
        assertEquals(expectedBytes(store, List.of(1, 3, 5, 7), List.of()), second.getMappedBytes());

        assertTrue(first.getMappedBytes() + second.getMappedBytes() < wholeModel,
                "the shards together map only FFN weights, not the " + wholeModel + " bytes of the whole model");
        System.out.printf("deepseek_v3_tiny: shard 0 maps %d bytes, shard 1 maps %d bytes, the whole checkpoint has %d%n",
                first.getMappedBytes(), second.getMappedBytes(), wholeModel);
    }

    @Test
    void routerPlacementHoldsNoDenseLayer() {
        try (HostedShard hosted = HostedShard.load(TestModels.deepseekTiny(), 0, 2, DensePlacement.ROUTER)) {
            assertEquals(List.of(), List.copyOf(hosted.denseLayers()));
            assertEquals(expectedBytes(checkpoint.store(), List.of(0, 2, 4, 6), List.of()), hosted.mappedBytes());
        }
    }

    @Test
    void routedResultsAddUpToTheWholeLayer() throws Exception {
        int rows = 5;
        float[] input = randomRows(rows);
        int[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 7, 0};
        float[] weights = {0.5f, 0.25f, 1f, 0.75f, 0.125f, 2f, 0.5f, 0.5f, 1.5f, 0.5f};
        ForwardCalls first = ForwardCalls.open(shard0);
        ForwardCalls second = ForwardCalls.open(shard1);
        // three requests on one stream come back in order, each with its call id
        for (long call = 1; call <= 3; call++) {
            first.send(routed(call, 2, input, rows, ids, weights, WireDType.WIRE_DTYPE_F32));
        }
        second.send(routed(9, 2, input, rows, ids, weights, WireDType.WIRE_DTYPE_F32));
        first.halfClose();
        second.halfClose();
        assertEquals(Status.Code.OK, first.awaitEnd().getCode());
        assertEquals(Status.Code.OK, second.awaitEnd().getCode());
        assertEquals(List.of(1L, 2L, 3L), first.responses.stream().map(ExpertResponse::getCallId).toList());
        assertEquals(9L, second.responses.getFirst().getCallId());

        float[] sum = new float[rows * HIDDEN];
        float[] partial = new float[rows * HIDDEN];
        TensorCodec.decode(first.responses.getFirst().getOutput(), rows, HIDDEN, sum);
        TensorCodec.decode(second.responses.getFirst().getOutput(), rows, HIDDEN, partial);
        for (int i = 0; i < sum.length; i++) {
            sum[i] += partial[i];
        }

        ExpertShard whole = ExpertShard.load(checkpoint.store(), checkpoint.config(), new ShardLayout(1), 0,
                DensePlacement.ROUTER);
        float[] expected = new float[rows * HIDDEN];
        whole.forwardRouted(2, input, rows, new ExpertRouting(rows, 2, ids, weights), expected);
        assertArrayEquals(expected, sum, "shard 0 + shard 1 against every expert in one shard");
    }

    @Test
    void denseLayerAndResponseDtypes() throws Exception {
        int rows = 3;
        float[] input = randomRows(rows);
        ForwardCalls calls = ForwardCalls.open(shard0);
        ExpertRequest.Builder dense = ExpertRequest.newBuilder().setLayer(0).setDense(true)
                .setHidden(TensorCodec.encode(input, rows, HIDDEN, WireDType.WIRE_DTYPE_F32));
        calls.send(dense.setCallId(1).setResponseDtype(WireDType.WIRE_DTYPE_F32).build());
        calls.send(dense.setCallId(2).setResponseDtype(WireDType.WIRE_DTYPE_BF16).build());
        calls.send(dense.setCallId(3).setResponseDtype(WireDType.WIRE_DTYPE_UNSPECIFIED).build());
        calls.halfClose();
        assertEquals(Status.Code.OK, calls.awaitEnd().getCode());

        assertEquals(WireDType.WIRE_DTYPE_F32, calls.responses.get(0).getOutput().getDtype());
        assertEquals(WireDType.WIRE_DTYPE_BF16, calls.responses.get(1).getOutput().getDtype());
        assertEquals(2 * rows * HIDDEN, calls.responses.get(1).getOutput().getData().size());
        assertEquals(WireDType.WIRE_DTYPE_F32, calls.responses.get(2).getOutput().getDtype(),
                "an unspecified response dtype follows the request's rows");

        float[] remote = new float[rows * HIDDEN];
        TensorCodec.decode(calls.responses.get(0).getOutput(), rows, HIDDEN, remote);
        ExpertShard local = ExpertShard.load(checkpoint.store(), checkpoint.config(), new ShardLayout(2), 0,
                DensePlacement.SHARDS);
        float[] expected = new float[rows * HIDDEN];
        local.forwardDense(0, input, rows, expected);
        assertArrayEquals(expected, remote);
    }

    @Test
    void invalidRequestsAreRejected() throws Exception {
        float[] input = randomRows(2);
        int[] ids = {0, 1, 2, 3};
        float[] weights = {1, 1, 1, 1};
        ExpertRequest valid = routed(1, 1, input, 2, ids, weights, WireDType.WIRE_DTYPE_F32);

        List<Object[]> cases = new ArrayList<>();
        cases.add(new Object[] {"unknown layer", valid.toBuilder().setLayer(4).build(), "layer 4 is outside"});
        cases.add(new Object[] {"negative layer", valid.toBuilder().setLayer(-1).build(), "layer -1 is outside"});
        cases.add(new Object[] {"wrong width", valid.toBuilder()
                .setHidden(TensorCodec.encode(input, 2, 63, WireDType.WIRE_DTYPE_F32)).build(), "rows x 64"});
        cases.add(new Object[] {"one-dimensional hidden", valid.toBuilder()
                .setHidden(valid.getHidden().toBuilder().clearShape().addShape(128)).build(), "rows x 64"});
        cases.add(new Object[] {"short data", valid.toBuilder()
                .setHidden(valid.getHidden().toBuilder().setData(ByteString.copyFrom(new byte[100]))).build(), "needs 512 bytes"});
        cases.add(new Object[] {"unspecified dtype", valid.toBuilder()
                .setHidden(valid.getHidden().toBuilder().setDtype(WireDType.WIRE_DTYPE_UNSPECIFIED)).build(), "unsupported tensor dtype"});
        cases.add(new Object[] {"ids count", valid.toBuilder().setExpertsPerRow(3).build(), "needs 6 expert ids, got 4"});
        cases.add(new Object[] {"weights count", valid.toBuilder().clearWeights().addWeights(1).build(), "needs 4 weights, got 1"});
        cases.add(new Object[] {"no experts per row", valid.toBuilder().setExpertsPerRow(0).build(), "experts_per_row must be >= 1"});
        cases.add(new Object[] {"expert id too large", valid.toBuilder().setExpertIds(3, 8).build(), "expert id 8 (row 1, slot 1)"});
        cases.add(new Object[] {"expert id below -1", valid.toBuilder().setExpertIds(0, -2).build(), "expert id -2"});
        cases.add(new Object[] {"routed request on a dense layer", valid.toBuilder().setLayer(0).build(), "layer 0 is a dense layer"});
        cases.add(new Object[] {"dense request on a MoE layer", valid.toBuilder().setDense(true).build(), "layer 1 is a MoE layer"});
        cases.add(new Object[] {"unknown response dtype", valid.toBuilder().setResponseDtypeValue(7).build(), "response_dtype 7"});

        for (Object[] testCase : cases) {
            Status status = ForwardCalls.errorOf(shard0, (ExpertRequest) testCase[1]);
            assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), testCase[0] + ": " + status);
            assertTrue(status.getDescription().contains((String) testCase[2]), testCase[0] + ": " + status.getDescription());
        }

        ExpertRequest denseElsewhere = ExpertRequest.newBuilder().setCallId(1).setLayer(0).setDense(true)
                .setHidden(valid.getHidden()).build();
        Status status = ForwardCalls.errorOf(shard1, denseElsewhere);
        assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
        assertTrue(status.getDescription().contains("expert shard 1 does not hold the dense FFN of layer 0; it is on shard 0"),
                status.getDescription());
    }

    @Test
    void tooManyRowsAreRejected() throws Exception {
        int rows = 4097;
        ExpertRequest request = ExpertRequest.newBuilder().setCallId(1).setLayer(0).setDense(true)
                .setHidden(TensorCodec.encode(new float[rows * HIDDEN], rows, HIDDEN, WireDType.WIRE_DTYPE_BF16)).build();
        Status status = ForwardCalls.errorOf(shard0, request);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
        assertTrue(status.getDescription().contains("at most 4096"), status.getDescription());
    }

    private static ExpertShardInfo describe(ManagedChannel channel) {
        return ExpertsGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .describe(DescribeExpertsRequest.getDefaultInstance());
    }

    /** Bytes of the routed experts {@code experts} of every MoE layer and the dense FFNs of {@code denseLayers}. */
    private static long expectedBytes(TensorStore store, List<Integer> experts, List<Integer> denseLayers) {
        long bytes = 0;
        for (int layer = 0; layer < checkpoint.config().numLayers(); layer++) {
            List<String> prefixes = new ArrayList<>();
            if (checkpoint.config().isMoeLayer(layer)) {
                for (int expert : experts) {
                    prefixes.add("model.layers." + layer + ".mlp.experts." + expert + ".");
                }
            } else if (denseLayers.contains(layer)) {
                prefixes.add("model.layers." + layer + ".mlp.");
            }
            for (String prefix : prefixes) {
                for (String projection : List.of("gate_proj", "up_proj", "down_proj")) {
                    bytes += store.info(prefix + projection + ".weight").byteSize();
                }
            }
        }
        return bytes;
    }

    private static ExpertRequest routed(long call, int layer, float[] input, int rows, int[] ids, float[] weights,
                                        WireDType dtype) {
        ExpertRequest.Builder request = ExpertRequest.newBuilder().setCallId(call).setLayer(layer)
                .setHidden(TensorCodec.encode(input, rows, HIDDEN, dtype)).setExpertsPerRow(ids.length / rows)
                .setResponseDtype(dtype);
        for (int i = 0; i < ids.length; i++) {
            request.addExpertIds(ids[i]).addWeights(weights[i]);
        }
        return request.build();
    }

    private static float[] randomRows(int rows) {
        Random random = new Random(rows);
        float[] values = new float[rows * HIDDEN];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
