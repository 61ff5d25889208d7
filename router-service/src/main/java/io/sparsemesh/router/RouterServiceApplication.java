package io.sparsemesh.router;

import io.sparsemesh.log.ParentProcessWatch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The router: scheduler, embeddings, MoE gates, sampling and the generation API of the mesh. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class RouterServiceApplication {

    public static void main(String[] args) {
        ParentProcessWatch.exitWithParent("router-service");
        SpringApplication.run(RouterServiceApplication.class, args);
    }
}
