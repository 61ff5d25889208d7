package io.sparsemesh.core.moe;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.tensor.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.TreeSet;

/**
 * One shard of a model's feed-forward weights, as {@link ShardLayout} places them: its routed
 * experts of every MoE layer and the dense FFNs of its dense layers. Only those tensors are
 * mapped. Stateless between calls and safe to call from several threads (each thread gets its own
 * scratch), so any replica of a shard can serve any request.
 */
public final class ExpertShard implements ExpertBackend {

    private static final Logger log = LoggerFactory.getLogger(ExpertShard.class);

    private final int shard;
    private final ShardLayout layout;
    private final RoutedExperts[] routed; // per layer, null for dense layers
    private final SwiGluMlp[] dense;      // per layer, null unless a dense layer held here
    private final Set<Integer> expertIds;
    private final ThreadLocal<Workspace> workspaces = ThreadLocal.withInitial(Workspace::new);

    private ExpertShard(int shard, ShardLayout layout, RoutedExperts[] routed, SwiGluMlp[] dense, Set<Integer> expertIds) {
        this.shard = shard;
        this.layout = layout;
        this.routed = routed;
        this.dense = dense;
        this.expertIds = Set.copyOf(expertIds);
    }

    /** Placement of the FFNs of dense layers. */
    public enum DensePlacement {
        /** In the router, next to the gate: the shard contains routed experts only. */
        ROUTER,
        /** On the expert shards, spread by {@link ShardLayout#shardOfDenseLayer}. */
        SHARDS
    }

    /** Loads shard {@code shard} of {@code layout} from {@code store}. */
    public static ExpertShard load(TensorStore store, ModelConfig config, ShardLayout layout, int shard,
                                   DensePlacement densePlacement) {
        int layers = config.numLayers();
        RoutedExperts[] routed = new RoutedExperts[layers];
        SwiGluMlp[] dense = new SwiGluMlp[layers];
        Set<Integer> expertIds = config.moe() == null ? Set.of()
                : layout.experts(shard, config.moe().numRoutedExperts());
        Set<Integer> denseLayers = new TreeSet<>();
        for (int layer = 0; layer < layers; layer++) {
            if (config.isMoeLayer(layer)) {
                routed[layer] = RoutedExperts.load(store, config, layer, expertIds);
            } else if (densePlacement == DensePlacement.SHARDS && layout.shardOfDenseLayer(layer) == shard) {
                String prefix = "model.layers." + layer + ".mlp.";
                int hidden = config.hiddenSize();
                int width = config.intermediateSize();
                dense[layer] = new SwiGluMlp(
                        store.matrix(prefix + "gate_proj.weight", width, hidden),
                        store.matrix(prefix + "up_proj.weight", width, hidden),
                        store.matrix(prefix + "down_proj.weight", hidden, width));
                denseLayers.add(layer);
            }
        }
        ExpertShard loaded = new ExpertShard(shard, layout, routed, dense, expertIds);
        log.info("Loaded expert shard {} of {}: experts {}, dense layers {}, {} KiB of weights", shard,
                layout.shardCount(), expertIds, denseLayers, loaded.weightBytes() >> 10);
        return loaded;
    }

    public int shard() {
        return shard;
    }

    public ShardLayout layout() {
        return layout;
    }

    /** Routed expert ids held for every MoE layer. */
    public Set<Integer> expertIds() {
        return expertIds;
    }

    /** Dense layers whose FFN this shard holds. */
    public Set<Integer> denseLayers() {
        Set<Integer> layers = new TreeSet<>();
        for (int layer = 0; layer < dense.length; layer++) {
            if (dense[layer] != null) {
                layers.add(layer);
            }
        }
        return layers;
    }

    public long weightBytes() {
        long bytes = 0;
        for (int layer = 0; layer < routed.length; layer++) {
            bytes += routed[layer] == null ? 0 : routed[layer].weightBytes();
            bytes += dense[layer] == null ? 0 : dense[layer].byteSize();
        }
        return bytes;
    }

    @Override
    public void forwardRouted(int layer, float[] input, int rows, ExpertRouting routing, float[] output) {
        if (layer < 0 || layer >= routed.length || routed[layer] == null) {
            throw new IllegalArgumentException("layer " + layer + " is not a MoE layer of this model");
        }
        if (routing.rows() != rows) {
            throw new IllegalArgumentException("routing has " + routing.rows() + " rows, input has " + rows);
        }
        routed[layer].forward(input, routing, output, workspaces.get());
    }

    @Override
    public void forwardDense(int layer, float[] input, int rows, float[] output) {
        if (layer < 0 || layer >= dense.length || dense[layer] == null) {
            throw new IllegalArgumentException("expert shard " + shard + " does not hold the dense FFN of layer " + layer
                    + "; it is on shard " + layout.shardOfDenseLayer(layer));
        }
        dense[layer].forward(input, 0, output, 0, rows, workspaces.get());
    }

    @Override
    public void close() {
        // The mapped bytes belong to the tensor store, which its owner closes.
    }
}
