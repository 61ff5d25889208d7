package io.sparsemesh.core.config;

import io.sparsemesh.core.checkpoint.CheckpointException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Builds a {@link ModelConfig} from a Hugging Face {@code config.json} for {@code LlamaForCausalLM},
 * {@code DeepseekV3ForCausalLM}, {@code DeepseekV32ForCausalLM} and {@code GlmMoeDsaForCausalLM}.
 * Both config forms are read: the current transformers one ({@code rope_parameters},
 * {@code mlp_layer_types}, {@code indexer_types}, {@code layer_types}) and the older one
 * ({@code rope_theta} with {@code rope_scaling}, {@code first_k_dense_replace} with
 * {@code moe_layer_freq}, {@code index_topk_freq}). Missing optional fields take the defaults of
 * the family's transformers config class.
 */
public final class HuggingFaceConfigReader {

    public static final String CONFIG_FILE = "config.json";
    public static final String GENERATION_CONFIG_FILE = "generation_config.json";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JsonNode json;
    private final Path source;
    private final Architecture architecture;

    private HuggingFaceConfigReader(JsonNode json, Path source) {
        this.json = json;
        this.source = source;
        this.architecture = architectureOf(json, source);
    }

    /**
     * Reads {@code folder/config.json}; end-of-sequence ids of {@code generation_config.json}, when
     * that file exists, are added to those of the config.
     */
    public static ModelConfig read(Path folder) {
        ModelConfig config = read(readJson(folder.resolve(CONFIG_FILE)), folder.resolve(CONFIG_FILE));
        Path generation = folder.resolve(GENERATION_CONFIG_FILE);
        if (!Files.exists(generation)) {
            return config;
        }
        JsonNode eos = readJson(generation).path("eos_token_id");
        Set<Integer> ids = new LinkedHashSet<>(config.eosTokenIds());
        ids.addAll(tokenIds(eos, generation, List.of()));
        return withEosTokenIds(config, List.copyOf(ids));
    }

    /** Reads a parsed {@code config.json}; {@code source} only names the file in error messages. */
    public static ModelConfig read(JsonNode json, Path source) {
        return new HuggingFaceConfigReader(json, source).modelConfig();
    }

    /**
     * Returns the FP8 scale block edge of {@code quantization_config.weight_block_size} in
     * {@code folder/config.json}, or {@code defaultSize} when the config does not give one.
     */
    public static int fp8BlockSize(Path folder, int defaultSize) {
        JsonNode blocks = readJson(folder.resolve(CONFIG_FILE)).path("quantization_config").path("weight_block_size");
        if (!blocks.isArray() || blocks.isEmpty()) {
            return defaultSize;
        }
        int rows = blocks.get(0).asInt();
        int cols = blocks.get(blocks.size() - 1).asInt();
        if (rows != cols || rows <= 0) {
            throw new CheckpointException(folder.resolve(CONFIG_FILE) + ": quantization_config.weight_block_size "
                    + blocks + " is not supported; only square blocks are");
        }
        return rows;
    }

    private ModelConfig modelConfig() {
        return architecture.usesMla() ? mlaModel() : llama();
    }

    private ModelConfig llama() {
        int hidden = requireInt("hidden_size");
        int heads = requireInt("num_attention_heads");
        int headDim = optionalInt("head_dim", hidden / heads);
        int rotaryDim = (int) (headDim * optionalDouble("partial_rotary_factor", 1.0));
        return new ModelConfig(
                architecture,
                requireInt("vocab_size"),
                hidden,
                requireInt("num_hidden_layers"),
                heads,
                optionalInt("num_key_value_heads", heads),
                headDim,
                requireInt("intermediate_size"),
                (float) optionalDouble("rms_norm_eps", 1e-6),
                optionalInt("max_position_embeddings", 2048),
                optionalBoolean("tie_word_embeddings", false),
                optionalInt("bos_token_id", 1),
                tokenIds(json.path("eos_token_id"), source, List.of(2)),
                rope(RopeLayout.NEOX, rotaryDim),
                null,
                null,
                null);
    }

    private ModelConfig mlaModel() {
        int layers = requireInt("num_hidden_layers");
        int heads = requireInt("num_attention_heads");
        int ropeDim = requireInt("qk_rope_head_dim");
        MlaConfig mla = new MlaConfig(optionalInt("q_lora_rank", 0), requireInt("kv_lora_rank"),
                requireInt("qk_nope_head_dim"), ropeDim, requireInt("v_head_dim"));
        return new ModelConfig(
                architecture,
                requireInt("vocab_size"),
                requireInt("hidden_size"),
                layers,
                heads,
                optionalInt("num_key_value_heads", heads),
                mla.qkHeadDim(),
                requireInt("intermediate_size"),
                (float) optionalDouble("rms_norm_eps", 1e-6),
                optionalInt("max_position_embeddings", 4096),
                optionalBoolean("tie_word_embeddings", false),
                optionalInt("bos_token_id", 0),
                tokenIds(json.path("eos_token_id"), source, List.of(1)),
                rope(mlaRopeLayout(), ropeDim),
                mla,
                indexer(layers, ropeDim),
                moe(layers));
    }

    /**
     * Returns the RoPE pairing of the MLA attention. An explicit {@code rope_interleave} wins. Without
     * it, every MLA family rotates adjacent pairs: transformers' {@code DeepseekV3Config} defaults
     * {@code rope_interleave} to true, and the GLM-5 reference outputs in {@code testdata/hf-tiny}
     * (transformers commit decba1d2) match only with adjacent pairs in both MLA and the indexer.
     */
    private RopeLayout mlaRopeLayout() {
        return optionalBoolean("rope_interleave", true) ? RopeLayout.INTERLEAVED : RopeLayout.NEOX;
    }

    /**
     * Reads the lightning indexer of DeepSeek-V3.2 and GLM-5, or returns null for other families.
     *
     * <p>The indexer rotates the first {@code qk_rope_head_dim} dimensions of each of its heads
     * (rope slice first, unlike the MLA heads). The two families pair them differently: DeepSeek-V3.2
     * half-splits ({@link RopeLayout#NEOX}; DeepSeek's reference {@code inference/model.py} says "rope
     * in indexer is not interleaved"), while GLM-5 rotates adjacent pairs (its released config sets
     * {@code indexer_rope_interleave: true}, and the hf-tiny GLM reference outputs match only so).
     * An explicit {@code indexer_rope_interleave} wins.
     */
    private IndexerConfig indexer(int layers, int ropeDim) {
        if (architecture != Architecture.DEEPSEEK_V32 && architecture != Architecture.GLM_MOE_DSA) {
            return null;
        }
        boolean interleaved = optionalBoolean("indexer_rope_interleave", architecture == Architecture.GLM_MOE_DSA);
        RopeLayout layout = interleaved ? RopeLayout.INTERLEAVED : RopeLayout.NEOX;
        return new IndexerConfig(
                optionalInt("index_n_heads", architecture == Architecture.DEEPSEEK_V32 ? 64 : 32),
                optionalInt("index_head_dim", 128),
                ropeDim,
                optionalInt("index_topk", 2048),
                layout,
                indexerTypes(layers));
    }

    /**
     * Returns which layers run their own indexer. In order of precedence, as transformers'
     * {@code configuration_glm_moe_dsa.py} derives them: {@code indexer_types} ("full"/"shared"),
     * {@code index_topk_pattern} ("F"/"S" per layer), then {@code index_topk_freq} with
     * {@code index_skip_topk_offset} (default 2): layer i is FULL when
     * {@code max(i - offset + 1, 0) % freq == 0}. Without any of them every layer is FULL, as in
     * DeepSeek-V3.2.
     */
    private List<IndexerType> indexerTypes(int layers) {
        List<IndexerType> types = new ArrayList<>(layers);
        JsonNode listed = json.path("indexer_types");
        JsonNode pattern = json.path("index_topk_pattern");
        if (listed.isArray()) {
            for (JsonNode type : listed) {
                types.add(indexerType(type.asString(""), "indexer_types"));
            }
        } else if (pattern.isString() || pattern.isArray()) {
            if (pattern.isString()) {
                for (char c : pattern.asString().toCharArray()) {
                    String type = switch (c) {
                        case 'F' -> "full";
                        case 'S' -> "shared";
                        default -> String.valueOf(c);
                    };
                    types.add(indexerType(type, "index_topk_pattern"));
                }
            } else {
                for (JsonNode type : pattern) {
                    types.add(indexerType(type.asString(""), "index_topk_pattern"));
                }
            }
        } else {
            int frequency = Math.max(optionalInt("index_topk_freq", 1), 1);
            int offset = optionalInt("index_skip_topk_offset", 2);
            for (int layer = 0; layer < layers; layer++) {
                types.add(Math.max(layer - offset + 1, 0) % frequency == 0 ? IndexerType.FULL : IndexerType.SHARED);
            }
        }
        checkLayerCount(types.size(), layers, "indexer types");
        if (types.getFirst() != IndexerType.FULL) {
            throw new CheckpointException(source + ": layer 0 is a SHARED indexer layer, but a shared layer reuses the"
                    + " top-k of an earlier FULL layer; the first layer must be FULL");
        }
        return types;
    }

    private IndexerType indexerType(String value, String field) {
        return switch (value) {
            case "full" -> IndexerType.FULL;
            case "shared" -> IndexerType.SHARED;
            default -> throw new CheckpointException(source + ": " + field + " has entry '" + value
                    + "'; valid entries are full and shared (F and S in index_topk_pattern)");
        };
    }

    private MoeConfig moe(int layers) {
        if (json.path("n_routed_experts").isNull() || optionalInt("n_routed_experts", 256) == 0) {
            return null;
        }
        int routedExperts = optionalInt("n_routed_experts", 256);
        return new MoeConfig(
                routedExperts,
                optionalInt("n_shared_experts", 1),
                optionalInt("num_experts_per_tok", 8),
                optionalInt("n_group", 1),
                optionalInt("topk_group", 1),
                optionalDouble("routed_scaling_factor", 2.5),
                optionalBoolean("norm_topk_prob", true),
                scoring(),
                optionalInt("moe_intermediate_size", 2048),
                mlpLayerTypes(layers));
    }

    private ScoringFunction scoring() {
        String scoring = optionalString("scoring_func", "sigmoid");
        return switch (scoring) {
            case "sigmoid" -> ScoringFunction.SIGMOID;
            case "softmax" -> ScoringFunction.SOFTMAX;
            default -> throw new CheckpointException(source + ": scoring_func '" + scoring
                    + "' is not supported; supported values are sigmoid and softmax");
        };
    }

    /**
     * Returns DENSE or SPARSE per layer from {@code mlp_layer_types}, or else as DeepSeek's modeling
     * code decides: layer i is SPARSE when {@code i >= first_k_dense_replace} and
     * {@code i % moe_layer_freq == 0}.
     */
    private List<MlpType> mlpLayerTypes(int layers) {
        List<MlpType> types = new ArrayList<>(layers);
        JsonNode listed = json.path("mlp_layer_types");
        if (listed.isArray()) {
            for (JsonNode type : listed) {
                types.add(switch (type.asString("")) {
                    case "dense" -> MlpType.DENSE;
                    case "sparse" -> MlpType.SPARSE;
                    default -> throw new CheckpointException(source + ": mlp_layer_types has entry " + type
                            + "; valid entries are dense and sparse");
                });
            }
        } else {
            int denseLayers = optionalInt("first_k_dense_replace", 3);
            int frequency = Math.max(optionalInt("moe_layer_freq", 1), 1);
            for (int layer = 0; layer < layers; layer++) {
                types.add(layer >= denseLayers && layer % frequency == 0 ? MlpType.SPARSE : MlpType.DENSE);
            }
        }
        checkLayerCount(types.size(), layers, "mlp_layer_types");
        return types;
    }

    /**
     * Reads RoPE from {@code rope_parameters}, or from the older top-level {@code rope_theta} and
     * {@code rope_scaling}. Only the default and YaRN rope types are supported. A missing YaRN
     * {@code mscale} or {@code mscale_all_dim} is 0, as {@link YarnScaling} defines: transformers then
     * skips the mscale ratio and uses the plain YaRN attention factor.
     */
    private RopeConfig rope(RopeLayout layout, int rotaryDim) {
        JsonNode parameters = json.path("rope_parameters");
        if (!parameters.isObject()) {
            parameters = json.path("rope_scaling");
        }
        double theta = parameters.path("rope_theta").asDouble(optionalDouble("rope_theta", 10_000.0));
        String type = parameters.path("rope_type").asString(parameters.path("type").asString("default"));
        YarnScaling yarn = switch (type.toLowerCase(Locale.ROOT)) {
            case "default" -> null;
            case "yarn", "deepseek_yarn" -> new YarnScaling(
                    parameters.path("factor").asDouble(1.0),
                    parameters.path("original_max_position_embeddings").asInt(optionalInt("max_position_embeddings", 4096)),
                    parameters.path("beta_fast").asDouble(32.0),
                    parameters.path("beta_slow").asDouble(1.0),
                    parameters.path("mscale").asDouble(0.0),
                    parameters.path("mscale_all_dim").asDouble(0.0));
            default -> throw new CheckpointException(source + ": rope type '" + type + "' is not supported;"
                    + " supported types are default and yarn");
        };
        return new RopeConfig(theta, layout, rotaryDim, yarn);
    }

    private static Architecture architectureOf(JsonNode json, Path source) {
        JsonNode architectures = json.path("architectures");
        if (architectures.isArray() && !architectures.isEmpty()) {
            String name = architectures.get(0).asString("");
            try {
                return Architecture.fromHuggingFaceName(name);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(source + ": " + e.getMessage(), e);
            }
        }
        return switch (json.path("model_type").asString("")) {
            case "llama" -> Architecture.LLAMA;
            case "deepseek_v3" -> Architecture.DEEPSEEK_V3;
            case "deepseek_v32" -> Architecture.DEEPSEEK_V32;
            case "glm_moe_dsa" -> Architecture.GLM_MOE_DSA;
            default -> throw new CheckpointException(source + " has neither an architectures entry nor a supported"
                    + " model_type (llama, deepseek_v3, deepseek_v32, glm_moe_dsa)");
        };
    }

    /** Reads an id or a list of ids; {@code defaults} when the field is missing or null. */
    private static List<Integer> tokenIds(JsonNode node, Path source, List<Integer> defaults) {
        if (node.isMissingNode() || node.isNull()) {
            return defaults;
        }
        List<Integer> ids = new ArrayList<>();
        if (node.isArray()) {
            for (JsonNode id : node) {
                ids.add(integer(id, "eos_token_id", source));
            }
        } else {
            ids.add(integer(node, "eos_token_id", source));
        }
        return ids;
    }

    private static int integer(JsonNode node, String field, Path source) {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new CheckpointException(source + ": field '" + field + "' is " + node + ", not an integer");
        }
        return node.asInt();
    }

    private void checkLayerCount(int listed, int layers, String what) {
        if (listed != layers) {
            throw new CheckpointException(source + ": " + what + " lists " + listed + " layers but num_hidden_layers is "
                    + layers);
        }
    }

    private int requireInt(String field) {
        JsonNode node = json.path(field);
        if (node.isMissingNode() || node.isNull()) {
            throw new CheckpointException(source + " has no field '" + field + "', which a "
                    + architecture.huggingFaceName() + " config needs");
        }
        return integer(node, field, source);
    }

    private int optionalInt(String field, int defaultValue) {
        JsonNode node = json.path(field);
        return node.isMissingNode() || node.isNull() ? defaultValue : integer(node, field, source);
    }

    private double optionalDouble(String field, double defaultValue) {
        JsonNode node = json.path(field);
        if (node.isMissingNode() || node.isNull()) {
            return defaultValue;
        }
        if (!node.isNumber()) {
            throw new CheckpointException(source + ": field '" + field + "' is " + node + ", not a number");
        }
        return node.asDouble();
    }

    private boolean optionalBoolean(String field, boolean defaultValue) {
        JsonNode node = json.path(field);
        if (node.isMissingNode() || node.isNull()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw new CheckpointException(source + ": field '" + field + "' is " + node + ", not true or false");
        }
        return node.asBoolean();
    }

    private String optionalString(String field, String defaultValue) {
        JsonNode node = json.path(field);
        return node.isMissingNode() || node.isNull() ? defaultValue : node.asString();
    }

    private static JsonNode readJson(Path file) {
        if (!Files.exists(file)) {
            throw new CheckpointException("config file " + file + " does not exist");
        }
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (JacksonException e) {
            throw new CheckpointException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static ModelConfig withEosTokenIds(ModelConfig c, List<Integer> eosTokenIds) {
        return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.rmsNormEps(), c.maxPositionEmbeddings(),
                c.tieWordEmbeddings(), c.bosTokenId(), eosTokenIds, c.rope(), c.mla(), c.indexer(), c.moe());
    }
}
