package io.sparsemesh.gateway;

import io.sparsemesh.log.ParentProcessWatch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The mesh's public entry: the OpenAI-compatible API of the router behind API keys and rate limits. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GatewayApplication {

    public static void main(String[] args) {
        ParentProcessWatch.exitWithParent("gateway");
        SpringApplication.run(GatewayApplication.class, args);
    }
}
