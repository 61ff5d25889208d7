package io.sparsemesh.standalone;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The standalone mesh's one API key: {@code SPARSEMESH_API_KEY} when set, else a new random key
 * that is printed once at start-up. The gateway is configured with its SHA-256 hash only.
 *
 * @param value     the key clients send as {@code Authorization: Bearer <value>}
 * @param generated whether the key was generated (and must be shown to the user)
 */
record ApiKey(String value, boolean generated) {

    static final String ENVIRONMENT_VARIABLE = "SPARSEMESH_API_KEY";

    static ApiKey fromEnvironmentOrNew() {
        String configured = System.getenv(ENVIRONMENT_VARIABLE);
        if (configured != null && !configured.isBlank()) {
            return new ApiKey(configured.strip(), false);
        }
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        return new ApiKey("sk-sparsemesh-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random), true);
    }

    String sha256() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Never prints the key itself. */
    @Override
    public String toString() {
        return "ApiKey[" + (generated ? "generated" : "from " + ENVIRONMENT_VARIABLE) + "]";
    }
}
