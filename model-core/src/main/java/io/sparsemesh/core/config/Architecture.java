package io.sparsemesh.core.config;

/** Model families the engine runs, named by the Hugging Face {@code architectures} entry they come from. */
public enum Architecture {
    LLAMA("LlamaForCausalLM"),
    DEEPSEEK_V3("DeepseekV3ForCausalLM"),
    DEEPSEEK_V32("DeepseekV32ForCausalLM"),
    GLM_MOE_DSA("GlmMoeDsaForCausalLM");

    private final String huggingFaceName;

    Architecture(String huggingFaceName) {
        this.huggingFaceName = huggingFaceName;
    }

    public String huggingFaceName() {
        return huggingFaceName;
    }

    /** True for the families whose attention is multi-head latent attention. */
    public boolean usesMla() {
        return this != LLAMA;
    }

    public static Architecture fromHuggingFaceName(String name) {
        for (Architecture architecture : values()) {
            if (architecture.huggingFaceName.equals(name)) {
                return architecture;
            }
        }
        throw new IllegalArgumentException("unsupported architecture '" + name + "'; supported: "
                + java.util.Arrays.stream(values()).map(Architecture::huggingFaceName).toList());
    }
}
