package io.sparsemesh.standalone;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class ServeCommandTest {

    @Test
    void apiKeyIdNamesGatewayPort() {
        assertEquals("standalone-8080", ServeCommand.apiKeyId(8080));
        assertEquals(ServeCommand.apiKeyId(26001), ServeCommand.apiKeyId(26001), "the id must be stable across restarts");
        assertNotEquals(ServeCommand.apiKeyId(8080), ServeCommand.apiKeyId(8090),
                "instances on other ports must not share a rate-limit bucket");
    }
}
