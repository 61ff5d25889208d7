package io.sparsemesh.expert;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.ExpertShard;
import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import io.sparsemesh.protocol.v1.ExpertRequest;
import io.sparsemesh.protocol.v1.ExpertResponse;
import io.sparsemesh.protocol.v1.Tensor;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.core.tensor.Workspace;
import io.sparsemesh.transport.TensorCodec;

import java.util.Arrays;

/**
 * Checks one {@link ExpertRequest} against the hosted shard and computes its response: the
 * weighted sum of the row's routed experts held here, or a dense layer's FFN. Invalid requests
 * raise a {@link StatusRuntimeException} with INVALID_ARGUMENT (or RESOURCE_EXHAUSTED above the
 * row limit) and a description naming the value. Thread-safe; each caller passes its own {@link Workspace}.
 */
public final class ShardForward {

    private enum Buffer { INPUT, OUTPUT, EXPERT_IDS, WEIGHTS, COUNTS }

    private final HostedShard hosted;
    private final ExpertMetrics metrics;
    private final int maxRows;

    public ShardForward(HostedShard hosted, ExpertMetrics metrics, int maxRowsPerRequest) {
        this.hosted = hosted;
        this.metrics = metrics;
        this.maxRows = maxRowsPerRequest;
    }

    /** Computes the response to {@code request}. */
    public ExpertResponse forward(ExpertRequest request, Workspace workspace) {
        long start = System.nanoTime();
        ModelConfig config = hosted.config();
        int layer = request.getLayer();
        if (layer < 0 || layer >= config.numLayers()) {
            throw invalid("layer " + layer + " is outside the model's layers [0, " + config.numLayers() + ")");
        }
        int hidden = config.hiddenSize();
        int rows = checkHidden(request.getHidden(), hidden);
        WireDType responseDtype = responseDtype(request);

        // decode the rows
        float[] input = workspace.floats(Buffer.INPUT, rows * hidden);
        float[] output = workspace.floats(Buffer.OUTPUT, rows * hidden);
        try {
            TensorCodec.decode(request.getHidden(), rows, hidden, input);
        } catch (IllegalArgumentException e) {
            throw invalid("hidden: " + e.getMessage());
        }

        // run the dense FFN or the routed experts held here
        ExpertShard experts = hosted.experts();
        ExpertRouting routing = null;
        if (request.getDense()) {
            checkDenseLayer(layer);
            experts.forwardDense(layer, input, rows, output);
        } else {
            routing = routing(request, layer, rows, workspace);
            experts.forwardRouted(layer, input, rows, routing, output);
        }

        // encode the result, then count the request with its whole time
        ExpertResponse response = ExpertResponse.newBuilder()
                .setCallId(request.getCallId())
                .setOutput(TensorCodec.encode(output, rows, hidden, responseDtype))
                .build();
        if (routing == null) {
            metrics.recordDense(layer, rows, System.nanoTime() - start);
        } else {
            metrics.recordRouted(layer, rows, countRowsPerExpert(routing, workspace), System.nanoTime() - start);
        }
        return response;
    }

    /** Checks that {@code tensor} is {@code rows × hidden} within the row limit and returns rows. */
    private int checkHidden(Tensor tensor, int hidden) {
        if (tensor.getShapeCount() != 2 || tensor.getShape(1) != hidden || tensor.getShape(0) < 0) {
            throw invalid("hidden must be a rows x " + hidden + " tensor, got shape " + tensor.getShapeList());
        }
        if (tensor.getShape(0) > maxRows) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("the request has " + tensor.getShape(0)
                    + " rows; this shard accepts at most " + maxRows + " per request; split the batch")
                    .asRuntimeException();
        }
        return (int) tensor.getShape(0);
    }

    /** Returns the requested response dtype; unspecified means the dtype of the request's rows. */
    private static WireDType responseDtype(ExpertRequest request) {
        return switch (request.getResponseDtype()) {
            case WIRE_DTYPE_F32, WIRE_DTYPE_BF16 -> request.getResponseDtype();
            case WIRE_DTYPE_UNSPECIFIED -> request.getHidden().getDtype();
            case UNRECOGNIZED -> throw invalid("response_dtype " + request.getResponseDtypeValue()
                    + " is unknown; use WIRE_DTYPE_F32 or WIRE_DTYPE_BF16");
        };
    }

    private void checkDenseLayer(int layer) {
        if (hosted.config().isMoeLayer(layer)) {
            throw invalid("layer " + layer + " is a MoE layer; send its rows with expert ids, not as dense");
        }
        if (!hosted.denseLayers().contains(layer)) {
            String where = hosted.densePlacement() == DensePlacement.ROUTER
                    ? "dense FFNs run in the router (dense placement ROUTER)"
                    : "it is on shard " + hosted.experts().layout().shardOfDenseLayer(layer);
            throw invalid("expert shard " + hosted.shard() + " does not hold the dense FFN of layer " + layer + "; " + where);
        }
    }

    /** Checks the routing fields against the rows and copies them into {@code workspace}. */
    private ExpertRouting routing(ExpertRequest request, int layer, int rows, Workspace workspace) {
        ModelConfig config = hosted.config();
        if (!config.isMoeLayer(layer)) {
            throw invalid("layer " + layer + " is a dense layer; send it with dense = true");
        }

        int k = request.getExpertsPerRow();
        if (k < 1) {
            throw invalid("experts_per_row must be >= 1 for a routed request, got " + k);
        }
        long entries = (long) rows * k;
        if (request.getExpertIdsCount() != entries) {
            throw invalid("experts_per_row " + k + " x " + rows + " rows needs " + entries + " expert ids, got "
                    + request.getExpertIdsCount());
        }
        if (request.getWeightsCount() != entries) {
            throw invalid("experts_per_row " + k + " x " + rows + " rows needs " + entries + " weights, got "
                    + request.getWeightsCount());
        }

        int experts = config.moe().numRoutedExperts();
        int[] ids = workspace.ints(Buffer.EXPERT_IDS, (int) entries);
        float[] weights = workspace.floats(Buffer.WEIGHTS, (int) entries);
        for (int i = 0; i < entries; i++) {
            int id = request.getExpertIds(i);
            if (id < -1 || id >= experts) {
                throw invalid("expert id " + id + " (row " + i / k + ", slot " + i % k + ") is outside [0, " + experts
                        + "); use -1 for padding");
            }
            ids[i] = id;
            weights[i] = request.getWeights(i);
        }
        return new ExpertRouting(rows, k, ids, weights);
    }

    /** Counts, per expert held here, the routing entries that name it. */
    private int[] countRowsPerExpert(ExpertRouting routing, Workspace workspace) {
        int experts = hosted.config().moe().numRoutedExperts();
        int[] counts = workspace.ints(Buffer.COUNTS, experts);
        Arrays.fill(counts, 0, experts, 0);
        int entries = routing.rows() * routing.expertsPerToken();
        for (int i = 0; i < entries; i++) {
            int id = routing.expertIds()[i];
            if (id >= 0 && hosted.experts().layout().shardOfExpert(id) == hosted.shard()) {
                counts[id]++;
            }
        }
        return counts;
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }
}
