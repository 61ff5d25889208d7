package io.sparsemesh.gateway;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** API key hashing, lookup and the checks on their configuration. */
class ApiKeyConfigurationTest {

    @Test
    void sha256MatchesStandardVector() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyTool.sha256Hex("abc"));
    }

    @Test
    void generatedKeysDiffer() {
        String first = ApiKeyTool.generateKey();
        String second = ApiKeyTool.generateKey();
        assertTrue(first.startsWith(ApiKeyTool.GENERATED_PREFIX), first);
        assertEquals(3 + 43, first.length(), "prefix and 32 bytes in unpadded Base64");
        assertTrue(!first.equals(second));
    }

    @Test
    void authenticateFindsKeyByHash() {
        ApiKeys keys = new ApiKeys(List.of(key("team-a", "secret-a"), key("team-b", "secret-b")));

        assertEquals("team-b", keys.authenticate("secret-b").orElseThrow().id());
        assertFalse(keys.authenticate("secret-c").isPresent());
        assertFalse(keys.authenticate("").isPresent());
    }

    @Test
    void upperCaseHashIsNormalised() {
        GatewayProperties.ApiKey key = new GatewayProperties.ApiKey("k", ApiKeyTool.sha256Hex("s").toUpperCase(), 1, 1);
        assertEquals(ApiKeyTool.sha256Hex("s"), key.sha256());
    }

    @Test
    void burstBelowRateIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new GatewayProperties.ApiKey("slow", ApiKeyTool.sha256Hex("x"), 5, 2));
        assertTrue(error.getMessage().contains("burst capacity 2"), error.getMessage());
        assertTrue(error.getMessage().contains("replenish rate 5.0"), error.getMessage());
    }

    @Test
    void zeroRateIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new GatewayProperties.ApiKey("none", ApiKeyTool.sha256Hex("x"), 0, 2));
        assertTrue(error.getMessage().contains("above 0"), error.getMessage());
    }

    @Test
    void duplicateIdIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> properties(key("same", "one"), key("same", "two")));
        assertTrue(error.getMessage().contains("'same' is configured twice"), error.getMessage());
    }

    @Test
    void duplicateHashIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> properties(key("a", "shared"), key("b", "shared")));
        assertTrue(error.getMessage().contains("same SHA-256 hash"), error.getMessage());
    }

    @Test
    void toStringHidesHash() {
        GatewayProperties.ApiKey key = key("visible-id", "secret");
        assertTrue(key.toString().contains("visible-id"));
        assertFalse(key.toString().contains(key.sha256()));
    }

    private static GatewayProperties.ApiKey key(String id, String secret) {
        return new GatewayProperties.ApiKey(id, ApiKeyTool.sha256Hex(secret), 10, 20);
    }

    private static GatewayProperties properties(GatewayProperties.ApiKey... keys) {
        return new GatewayProperties(URI.create("http://127.0.0.1:8081"), DataSize.ofMegabytes(1), List.of(keys),
                new GatewayProperties.RateLimit(GatewayProperties.RedisFailurePolicy.ALLOW));
    }
}
