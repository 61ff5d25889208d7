package io.sparsemesh.standalone;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServeCommandTest {

    @Test
    void apiKeyIdNamesGatewayPort() {
        assertEquals("standalone-8080", ServeCommand.apiKeyId(8080));
        assertEquals(ServeCommand.apiKeyId(26001), ServeCommand.apiKeyId(26001), "the id must be stable across restarts");
        assertNotEquals(ServeCommand.apiKeyId(8080), ServeCommand.apiKeyId(8090),
                "instances on other ports must not share a rate-limit bucket");
    }

    @Test
    void contextBelowTwoRejected() {
        // rejected before anything starts: no model is opened and no port is bound
        StringWriter errors = new StringWriter();
        CommandLine command = new CommandLine(new ServeCommand()).setErr(new PrintWriter(errors));

        int exitCode = command.execute("--context", "1", "--port", "26901");

        assertEquals(2, exitCode);
        assertTrue(errors.toString().contains("--context must be >= 2 tokens, got 1"), errors.toString());
    }
}
