package io.sparsemesh.router;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spring Boot's meter filter property turns the per-layer expert series off, for models with many layers and experts. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "management.metrics.enable.sparsemesh.router.layer.expert.tokens=false")
class RouterExpertMetricsDisabledTest {

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        RouterExpertMetricsTest.properties(registry);
    }

    @Test
    void propertyRemovesLayerSeries() throws Exception {
        RouterExpertMetricsTest.complete(port, "It was", 2);

        String text = RouterExpertMetricsTest.scrape(port);
        assertFalse(text.contains("sparsemesh_router_layer_expert_tokens_total"), "per-layer series are off");
        assertTrue(text.contains("sparsemesh_router_expert_tokens_total"), "the per-expert counter stays");
    }
}
