package io.sparsemesh.gateway;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The configured API keys, looked up by the SHA-256 hash of the key a client presents. Comparing
 * hashes rather than keys means lookup timing reveals nothing usable about a key.
 */
public final class ApiKeys {

    private final Map<String, GatewayProperties.ApiKey> byHash;
    private final Map<String, GatewayProperties.ApiKey> byId;

    public ApiKeys(List<GatewayProperties.ApiKey> keys) {
        this.byHash = keys.stream().collect(Collectors.toUnmodifiableMap(GatewayProperties.ApiKey::sha256, Function.identity()));
        this.byId = keys.stream().collect(Collectors.toUnmodifiableMap(GatewayProperties.ApiKey::id, Function.identity()));
    }

    /** Finds the configured key whose hash matches {@code presentedKey}. */
    public Optional<GatewayProperties.ApiKey> authenticate(String presentedKey) {
        return Optional.ofNullable(byHash.get(ApiKeyTool.sha256Hex(presentedKey)));
    }

    /** Finds a key by its id. */
    public Optional<GatewayProperties.ApiKey> byId(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    public int size() {
        return byHash.size();
    }
}
