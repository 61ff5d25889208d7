package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.tensor.DType;

import java.util.Map;

/**
 * Tensor type ids of ggml ({@code enum ggml_type} in ggml.h), as GGUF tensor infos store them,
 * and the {@link DType} each supported id reads as.
 */
final class GgmlType {

    private static final Map<Integer, DType> SUPPORTED = Map.of(
            0, DType.F32,
            1, DType.F16,
            2, DType.Q4_0,
            8, DType.Q8_0,
            12, DType.Q4_K,
            14, DType.Q6_K,
            30, DType.BF16);

    /** ggml's names of the ids this reader does not support, so errors can name what the file contains. */
    private static final Map<Integer, String> OTHER_NAMES = Map.ofEntries(
            Map.entry(3, "Q4_1"), Map.entry(6, "Q5_0"), Map.entry(7, "Q5_1"), Map.entry(9, "Q8_1"),
            Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"), Map.entry(13, "Q5_K"), Map.entry(15, "Q8_K"),
            Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"), Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"),
            Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"), Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"),
            Map.entry(24, "I8"), Map.entry(25, "I16"), Map.entry(26, "I32"), Map.entry(27, "I64"),
            Map.entry(28, "F64"), Map.entry(29, "IQ1_M"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"),
            Map.entry(39, "MXFP4"));

    private GgmlType() {
    }

    /** Returns the DType of ggml type {@code id}, or null when this reader does not support it. */
    static DType dtypeOf(int id) {
        return SUPPORTED.get(id);
    }

    /** Returns ggml's name for type {@code id}, or "unknown" for an id ggml does not define. */
    static String nameOf(int id) {
        DType dtype = SUPPORTED.get(id);
        if (dtype != null) {
            return dtype.name();
        }
        return OTHER_NAMES.getOrDefault(id, "unknown");
    }

    static String supportedNames() {
        return "F32 (0), F16 (1), Q4_0 (2), Q8_0 (8), Q4_K (12), Q6_K (14), BF16 (30)";
    }
}
