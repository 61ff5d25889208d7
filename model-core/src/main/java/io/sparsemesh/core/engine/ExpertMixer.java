package io.sparsemesh.core.engine;

import io.sparsemesh.core.layer.SwiGluMlp;
import io.sparsemesh.core.moe.ExpertBackend;
import io.sparsemesh.core.moe.ExpertRouting;
import io.sparsemesh.core.moe.MoeGate;
import io.sparsemesh.core.moe.RoutingObserver;
import io.sparsemesh.core.tensor.Workspace;

/**
 * A MoE layer's channel mixer as the router runs it: the gate picks experts locally, the routed
 * experts run in an {@link ExpertBackend} (this process or expert shards), and the shared experts,
 * when the layer has them, run here and are added.
 */
public final class ExpertMixer implements ChannelMixer {

    private enum Buffer { SHARED, EXPERT_IDS, EXPERT_WEIGHTS }

    private final int layer;
    private final MoeGate gate;
    private final ExpertBackend experts;
    private final SwiGluMlp sharedExperts; // null when the layer has none
    private final RoutingObserver observer;

    public ExpertMixer(int layer, MoeGate gate, ExpertBackend experts, SwiGluMlp sharedExperts) {
        this(layer, gate, experts, sharedExperts, RoutingObserver.NONE);
    }

    public ExpertMixer(int layer, MoeGate gate, ExpertBackend experts, SwiGluMlp sharedExperts,
                       RoutingObserver observer) {
        this.observer = observer;
        this.layer = layer;
        this.gate = gate;
        this.experts = experts;
        this.sharedExperts = sharedExperts;
    }

    @Override
    public void forward(float[] input, float[] output, int rows, Workspace workspace) {
        // the gate picks each row's experts and weights
        int entries = rows * gate.expertsPerToken();
        ExpertRouting step = new ExpertRouting(rows, gate.expertsPerToken(),
                workspace.ints(Buffer.EXPERT_IDS, entries), workspace.floats(Buffer.EXPERT_WEIGHTS, entries));
        gate.route(input, step, workspace);
        observer.onRouted(layer, step);

        // routed experts, wherever they run
        experts.forwardRouted(layer, input, rows, step, output);

        // shared experts see every row with weight one
        if (sharedExperts != null) {
            int hidden = sharedExperts.hiddenSize();
            float[] shared = workspace.floats(Buffer.SHARED, rows * hidden);
            sharedExperts.forward(input, 0, shared, 0, rows, workspace);
            for (int i = 0; i < rows * hidden; i++) {
                output[i] += shared[i];
            }
        }
    }

    @Override
    public long weightBytes() {
        return gate.weightBytes() + (sharedExperts == null ? 0 : sharedExperts.byteSize());
    }
}
