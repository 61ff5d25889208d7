package io.sparsemesh.core.moe;

import io.sparsemesh.core.config.Architecture;
import io.sparsemesh.core.config.MlpType;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.config.MoeConfig;
import io.sparsemesh.core.config.RopeConfig;
import io.sparsemesh.core.config.RopeLayout;
import io.sparsemesh.core.config.ScoringFunction;

import java.util.List;

/** Tiny MoE model configs for tests on random weights; layer 1 is the MoE layer. */
final class MoeTestModels {

    static final int HIDDEN = 16;

    private MoeTestModels() {
    }

    /** 8 routed experts of width 12 in {@code groups} groups, {@code topkGroup} of them per token, 2 experts per token. */
    static ModelConfig config(ScoringFunction scoring, int groups, int topkGroup, boolean normTopkProb) {
        MoeConfig moe = new MoeConfig(8, 1, 2, groups, topkGroup, 2.5, normTopkProb, scoring, 12,
                List.of(MlpType.DENSE, MlpType.SPARSE));
        return new ModelConfig(Architecture.DEEPSEEK_V3, 64, HIDDEN, 2, 2, 2, 8, 32, 1e-6f, 4096, false, 0,
                List.of(1), new RopeConfig(10000, RopeLayout.NEOX, 8, null), null, null, moe);
    }
}
