package io.sparsemesh.transport.discovery;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetSourceTest {

    static final Duration REFRESH = Duration.ofSeconds(30);

    @Test
    void staticListIsSplitOnCommas() {
        TargetSource source = TargetSource.parse(" 127.0.0.1:9084, 127.0.0.1:9184 ,in-process:expert-0-b", REFRESH);
        assertEquals(new TargetSource.Static(List.of("127.0.0.1:9084", "127.0.0.1:9184", "in-process:expert-0-b")), source);
    }

    @Test
    void dnsSourceKeepsHostPortAndInterval() {
        assertEquals(new TargetSource.Dns("experts-0.sparsemesh.svc", 9084, REFRESH),
                TargetSource.parse("dns:///experts-0.sparsemesh.svc:9084", REFRESH));
    }

    @Test
    void ipv6TargetsAreBracketed() {
        TargetSource.HostAndPort address = TargetSource.HostAndPort.parse("[::1]:9084");
        assertEquals("::1", address.host());
        assertEquals(9084, address.port());
        assertEquals("[::1]:9084", address.target());
        assertEquals("10.0.0.7:9085", new TargetSource.HostAndPort("10.0.0.7", 9085).target());
    }

    @Test
    void invalidSpecsAreRejected() {
        List<String[]> cases = List.of(
                new String[] {"", "names no target"},
                new String[] {" , ", "names no target"},
                new String[] {"localhost", "is not host:port"},
                new String[] {"localhost:", "is not host:port"},
                new String[] {":9084", "is not host:port"},
                new String[] {"localhost:http", "invalid port"},
                new String[] {"localhost:70000", "outside [1, 65535]"},
                new String[] {"in-process:", "has no server name"},
                new String[] {"dns:///experts", "is not host:port"});
        for (String[] testCase : cases) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> TargetSource.parse(testCase[0], REFRESH), "spec '" + testCase[0] + "'");
            assertTrue(error.getMessage().contains(testCase[1]), testCase[0] + ": " + error.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new TargetSource.Dns("experts", 9084, Duration.ZERO));
    }
}
