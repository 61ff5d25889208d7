package io.sparsemesh.core.config;

/**
 * Rotary position embedding settings.
 *
 * @param theta     base frequency ({@code rope_theta})
 * @param layout    how rotated dimensions are paired
 * @param rotaryDim dimensions rotated per head (head_dim for Llama, {@code qk_rope_head_dim} for MLA)
 * @param yarn      YaRN scaling, or null when the config asks for none
 */
public record RopeConfig(double theta, RopeLayout layout, int rotaryDim, YarnScaling yarn) {
}
