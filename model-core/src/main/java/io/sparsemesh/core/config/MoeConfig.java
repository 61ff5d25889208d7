package io.sparsemesh.core.config;

import java.util.List;

/**
 * Mixture-of-experts settings, with the Hugging Face field names in camel case.
 *
 * @param numRoutedExperts    {@code n_routed_experts}
 * @param numSharedExperts    {@code n_shared_experts}; each shared expert is {@code moeIntermediateSize} wide
 * @param numExpertsPerToken  {@code num_experts_per_tok}
 * @param nGroup              expert groups for group-limited routing ({@code n_group}); 1 means no groups
 * @param topkGroup           groups a token may pick experts from ({@code topk_group})
 * @param routedScalingFactor multiplier on the routed experts' weights
 * @param normTopkProb        whether the top-k weights are renormalised to sum to one
 * @param scoring             gate scoring function
 * @param moeIntermediateSize hidden size of each routed expert
 * @param mlpLayerTypes       per layer: DENSE (a plain MLP of {@code intermediate_size}) or SPARSE (MoE)
 */
public record MoeConfig(int numRoutedExperts, int numSharedExperts, int numExpertsPerToken,
                        int nGroup, int topkGroup, double routedScalingFactor, boolean normTopkProb,
                        ScoringFunction scoring, int moeIntermediateSize, List<MlpType> mlpLayerTypes) {

    public MoeConfig {
        mlpLayerTypes = List.copyOf(mlpLayerTypes);
    }

    public boolean isMoeLayer(int layer) {
        return mlpLayerTypes.get(layer) == MlpType.SPARSE;
    }
}
