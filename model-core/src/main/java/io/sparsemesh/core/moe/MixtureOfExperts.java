package io.sparsemesh.core.moe;

import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.MoeConfig;
import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.tensor.Workspace;

import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A whole MoE layer in one process: gate, every routed expert, and the shared experts that every
 * row visits. {@code output = Σ_chosen w · expert(x) + shared(x)}. The services split it into
 * its parts: the gate runs in the router and {@link RoutedExperts} shards run in expert services.
 */
public final class MixtureOfExperts {

    private enum Buffer { EXPERT_IDS, WEIGHTS, SHARED_OUT }

    private final MoeGate gate;
    private final RoutedExperts experts;
    private final SwiGluMlp sharedExperts; // null when the config has no shared experts

    public MixtureOfExperts(MoeGate gate, RoutedExperts experts, SwiGluMlp sharedExperts) {
        this.gate = gate;
        this.experts = experts;
        this.sharedExperts = sharedExperts;
    }

    /** Loads the gate, all routed experts and the shared experts of MoE layer {@code layer}. */
    public static MixtureOfExperts load(TensorStore store, ModelConfig config, int layer) {
        Set<Integer> all = IntStream.range(0, config.moe().numRoutedExperts()).boxed().collect(Collectors.toSet());
        return new MixtureOfExperts(MoeGate.load(store, config, layer), RoutedExperts.load(store, config, layer, all),
                loadSharedExperts(store, config, layer));
    }

    /**
     * Loads {@code model.layers.<layer>.mlp.shared_experts.*}, one SwiGLU block of width
     * {@code moe_intermediate_size · n_shared_experts}, or returns null when {@code n_shared_experts} is 0.
     */
    public static SwiGluMlp loadSharedExperts(TensorStore store, ModelConfig config, int layer) {
        MoeConfig moe = config.moe();
        if (moe.numSharedExperts() == 0) {
            return null;
        }
        String prefix = "model.layers." + layer + ".mlp.shared_experts.";
        int hidden = config.hiddenSize();
        int width = moe.moeIntermediateSize() * moe.numSharedExperts();
        return new SwiGluMlp(
                store.matrix(prefix + "gate_proj.weight", width, hidden),
                store.matrix(prefix + "up_proj.weight", width, hidden),
                store.matrix(prefix + "down_proj.weight", hidden, width));
    }

    public MoeGate gate() {
        return gate;
    }

    public long weightBytes() {
        return gate.weightBytes() + experts.weightBytes() + (sharedExperts == null ? 0 : sharedExperts.byteSize());
    }

    /** Computes the layer for {@code rows} normalised rows of {@code input} into {@code output} (before the residual add). */
    public void forward(float[] input, float[] output, int rows, Workspace workspace) {
        int k = gate.expertsPerToken();
        ExpertRouting routing = new ExpertRouting(rows, k, workspace.ints(Buffer.EXPERT_IDS, rows * k),
                workspace.floats(Buffer.WEIGHTS, rows * k));

        // choose experts per row
        gate.route(input, routing, workspace);

        // weighted sum of the chosen routed experts
        experts.forward(input, routing, output, workspace);

        // plus the shared experts every row visits
        if (sharedExperts != null) {
            float[] shared = workspace.floats(Buffer.SHARED_OUT, rows * experts.hiddenSize());
            sharedExperts.forward(input, 0, shared, 0, rows, workspace);
            for (int i = 0; i < rows * experts.hiddenSize(); i++) {
                output[i] += shared[i];
            }
        }
    }
}
