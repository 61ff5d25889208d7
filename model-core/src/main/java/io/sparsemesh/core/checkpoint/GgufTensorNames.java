package io.sparsemesh.core.checkpoint;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Translates llama.cpp tensor names (gguf-py {@code constants.py}, {@code TENSOR_NAMES}) into the
 * Hugging Face names of {@code LlamaForCausalLM} and {@code DeepseekV3ForCausalLM}.
 */
final class GgufTensorNames {

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");
    private static final Pattern STACKED_EXPERTS = Pattern.compile("blk\\.(\\d+)\\.ffn_(gate|up|down)_exps\\.weight");

    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");

    /** Block tensors: llama.cpp name → module path under {@code model.layers.N}. */
    private static final Map<String, String> BLOCK_MODULES = Map.ofEntries(
            Map.entry("attn_norm", "input_layernorm"),
            Map.entry("attn_q", "self_attn.q_proj"),
            Map.entry("attn_k", "self_attn.k_proj"),
            Map.entry("attn_v", "self_attn.v_proj"),
            Map.entry("attn_output", "self_attn.o_proj"),
            Map.entry("ffn_norm", "post_attention_layernorm"),
            Map.entry("ffn_gate", "mlp.gate_proj"),
            Map.entry("ffn_up", "mlp.up_proj"),
            Map.entry("ffn_down", "mlp.down_proj"),
            // multi-head latent attention (deepseek2)
            Map.entry("attn_q_a", "self_attn.q_a_proj"),
            Map.entry("attn_q_a_norm", "self_attn.q_a_layernorm"),
            Map.entry("attn_q_b", "self_attn.q_b_proj"),
            Map.entry("attn_kv_a_mqa", "self_attn.kv_a_proj_with_mqa"),
            Map.entry("attn_kv_a_norm", "self_attn.kv_a_layernorm"),
            Map.entry("attn_kv_b", "self_attn.kv_b_proj"),
            // llama.cpp's split of kv_b_proj; Hugging Face checkpoints have no such tensors
            Map.entry("attn_k_b", "self_attn.k_b_proj"),
            Map.entry("attn_v_b", "self_attn.v_b_proj"),
            // mixture of experts (deepseek2)
            Map.entry("ffn_gate_inp", "mlp.gate"),
            Map.entry("ffn_gate_shexp", "mlp.shared_experts.gate_proj"),
            Map.entry("ffn_up_shexp", "mlp.shared_experts.up_proj"),
            Map.entry("ffn_down_shexp", "mlp.shared_experts.down_proj"));

    private GgufTensorNames() {
    }

    /** Returns the Hugging Face name of {@code ggufName}, or {@code ggufName} itself when it has no counterpart. */
    static String toHuggingFace(String ggufName) {
        String global = GLOBAL.get(ggufName);
        if (global != null) {
            return global;
        }
        Matcher block = BLOCK.matcher(ggufName);
        if (!block.matches()) {
            return ggufName;
        }
        String layer = "model.layers." + block.group(1) + ".";
        String kind = block.group(2);
        if (kind.equals("exp_probs_b")) {
            return layer + "mlp.gate.e_score_correction_bias";
        }
        String module = BLOCK_MODULES.get(kind);
        return module == null ? ggufName : layer + module + "." + block.group(3);
    }

    /**
     * Returns the Hugging Face name of expert {@code expert}'s slice of a stacked
     * {@code blk.N.ffn_{gate,up,down}_exps.weight}, or null when {@code ggufName} is not stacked experts.
     */
    static String expertName(String ggufName, int expert) {
        Matcher stacked = STACKED_EXPERTS.matcher(ggufName);
        if (!stacked.matches()) {
            return null;
        }
        return "model.layers." + stacked.group(1) + ".mlp.experts." + expert + "." + stacked.group(2) + "_proj.weight";
    }

    static boolean isStackedExperts(String ggufName) {
        return STACKED_EXPERTS.matcher(ggufName).matches();
    }
}
