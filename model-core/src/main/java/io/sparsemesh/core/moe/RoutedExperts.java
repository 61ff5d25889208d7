package io.sparsemesh.core.moe;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.MoeConfig;
import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * A subset of one MoE layer's routed experts: the unit an expert shard hosts. Only the tensors of
 * the owned experts are loaded. Given rows and their routing, it computes for each row the
 * weighted sum of the chosen experts it owns. Slots that name other experts contribute nothing,
 * so the outputs of shards that together own every expert add up to the whole MoE output.
 *
 * <p>Rows are grouped by expert so that each expert runs one batched SwiGLU over all its rows.
 */
public final class RoutedExperts {

    private enum Buffer { COUNTS, ENTRY_ROWS, ENTRY_WEIGHTS, GATHERED, EXPERT_OUT }

    private final int layer;
    private final int hidden;
    private final SwiGluMlp[] experts; // indexed by expert id, null for experts this instance does not own
    private final int[] ownedIds;      // ascending

    public RoutedExperts(int layer, int hidden, SwiGluMlp[] experts) {
        this.layer = layer;
        this.hidden = hidden;
        this.experts = experts.clone();
        this.ownedIds = IntStream.range(0, experts.length).filter(e -> experts[e] != null).toArray();
        for (int id : ownedIds) {
            if (experts[id].hiddenSize() != hidden) {
                throw new IllegalArgumentException("expert " + id + " of layer " + layer + " has hidden size "
                        + experts[id].hiddenSize() + ", expected " + hidden);
            }
        }
    }

    /**
     * Loads {@code model.layers.<layer>.mlp.experts.<id>.{gate,up,down}_proj.weight} for each id in
     * {@code expertIds}, and nothing of the other experts.
     */
    public static RoutedExperts load(TensorStore store, ModelConfig config, int layer, Set<Integer> expertIds) {
        MoeConfig moe = config.moe();
        int hidden = config.hiddenSize();
        int intermediate = moe.moeIntermediateSize();
        SwiGluMlp[] experts = new SwiGluMlp[moe.numRoutedExperts()];
        for (int id : expertIds) {
            if (id < 0 || id >= experts.length) {
                throw new IllegalArgumentException("expert id " + id + " is outside layer " + layer + "'s "
                        + experts.length + " routed experts");
            }
            String prefix = "model.layers." + layer + ".mlp.experts." + id + ".";
            experts[id] = new SwiGluMlp(
                    store.matrix(prefix + "gate_proj.weight", intermediate, hidden),
                    store.matrix(prefix + "up_proj.weight", intermediate, hidden),
                    store.matrix(prefix + "down_proj.weight", hidden, intermediate));
        }
        return new RoutedExperts(layer, hidden, experts);
    }

    public int layerIndex() {
        return layer;
    }

    public int hiddenSize() {
        return hidden;
    }

    /** Ids of the experts this instance owns, ascending. */
    public int[] expertIds() {
        return ownedIds.clone();
    }

    public boolean owns(int expertId) {
        return expertId >= 0 && expertId < experts.length && experts[expertId] != null;
    }

    public long weightBytes() {
        long bytes = 0;
        for (int id : ownedIds) {
            bytes += experts[id].byteSize();
        }
        return bytes;
    }

    /**
     * Writes {@code output[r] = Σ_slot weight · expert(input[r])} over the slots of row {@code r}
     * whose expert this instance owns, for every row of {@code routing}; rows with no owned expert get zeros.
     */
    public void forward(float[] input, ExpertRouting routing, float[] output, Workspace workspace) {
        int rows = routing.rows();
        int k = routing.expertsPerToken();
        int[] counts = workspace.ints(Buffer.COUNTS, experts.length + 1);
        int[] entryRows = workspace.ints(Buffer.ENTRY_ROWS, rows * k);
        float[] entryWeights = workspace.floats(Buffer.ENTRY_WEIGHTS, rows * k);
        Arrays.fill(output, 0, rows * hidden, 0f);

        // bucket the (row, weight) entries by expert: counts[e] .. counts[e + 1] after the prefix sum
        if (groupByExpert(routing, counts, entryRows, entryWeights) == 0) {
            return;
        }
        int maxRows = 0;
        for (int id : ownedIds) {
            maxRows = Math.max(maxRows, counts[id + 1] - counts[id]);
        }
        float[] gathered = workspace.floats(Buffer.GATHERED, maxRows * hidden);
        float[] expertOut = workspace.floats(Buffer.EXPERT_OUT, maxRows * hidden);

        // each owned expert: gather its rows, one batched SwiGLU, scatter-add the weighted results
        for (int id : ownedIds) {
            int from = counts[id];
            int n = counts[id + 1] - from;
            if (n == 0) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                System.arraycopy(input, entryRows[from + i] * hidden, gathered, i * hidden, hidden);
            }
            experts[id].forward(gathered, 0, expertOut, 0, n, workspace);
            for (int i = 0; i < n; i++) {
                int out = entryRows[from + i] * hidden;
                float w = entryWeights[from + i];
                for (int d = 0; d < hidden; d++) {
                    output[out + d] += w * expertOut[i * hidden + d];
                }
            }
        }
    }

    /**
     * Counting-sorts the routing entries of owned experts by expert id (rows ascending within an
     * expert) into {@code entryRows}/{@code entryWeights}; leaves expert {@code e}'s range at
     * {@code counts[e] .. counts[e + 1]} and returns the number of entries.
     */
    private int groupByExpert(ExpertRouting routing, int[] counts, int[] entryRows, float[] entryWeights) {
        int rows = routing.rows();
        int k = routing.expertsPerToken();
        Arrays.fill(counts, 0, experts.length + 1, 0);
        for (int i = 0; i < rows * k; i++) {
            int id = routing.expertIds()[i];
            if (owns(id)) {
                counts[id + 1]++;
            }
        }
        for (int e = 0; e < experts.length; e++) {
            counts[e + 1] += counts[e];
        }

        // place entries, using counts[e] as expert e's write cursor, then shift the cursors back
        for (int i = 0; i < rows * k; i++) {
            int id = routing.expertIds()[i];
            if (owns(id)) {
                int at = counts[id]++;
                entryRows[at] = i / k;
                entryWeights[at] = routing.weights()[i];
            }
        }
        for (int e = experts.length; e > 0; e--) {
            counts[e] = counts[e - 1];
        }
        counts[0] = 0;
        return counts[experts.length];
    }
}
