package io.sparsemesh.gateway;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Hashes API keys for the gateway's configuration, which stores only SHA-256 hashes. Uses the JDK
 * alone, so it also runs as a source file:
 *
 * <pre>
 * java gateway/src/main/java/io/sparsemesh/gateway/ApiKeyTool.java --generate   # new key and its hash
 * printf %s "$KEY" | java gateway/src/main/java/io/sparsemesh/gateway/ApiKeyTool.java   # hash of a key read from stdin
 * </pre>
 */
public final class ApiKeyTool {

    /** Prefix of generated keys, so they are recognisable in secret scanners. */
    static final String GENERATED_PREFIX = "sm-";
    private static final int GENERATED_KEY_BYTES = 32;

    private ApiKeyTool() {
    }

    /** Returns the lower-case hex SHA-256 of the key's UTF-8 bytes: the form the gateway's configuration takes. */
    public static String sha256Hex(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256 implementation", e);
        }
    }

    /** Creates a random key: {@value #GENERATED_PREFIX} and 32 random bytes in URL-safe Base64. */
    public static String generateKey() {
        byte[] bytes = new byte[GENERATED_KEY_BYTES];
        new SecureRandom().nextBytes(bytes);
        return GENERATED_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 1 && args[0].equals("--generate")) {
            String key = generateKey();
            System.out.println("key:    " + key);
            System.out.println("sha256: " + sha256Hex(key));
            return;
        }
        if (args.length != 0) {
            System.err.println("usage: ApiKeyTool [--generate]");
            System.err.println("  with no option, prints the SHA-256 hash of the key read from the first line of stdin;");
            System.err.println("  --generate creates a random key and prints it with its hash");
            System.exit(2);
        }
        String key = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (key == null || key.isEmpty()) {
            System.err.println("no key on stdin; pipe the key in, e.g. printf %s \"$KEY\" | java ApiKeyTool.java");
            System.exit(2);
        }
        System.out.println(sha256Hex(key));
    }
}
