package io.sparsemesh.attention;

import io.sparsemesh.log.ParentProcessWatch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/** The attention service: the attention layers of a layer range and the caches of every sequence that uses them. */
@SpringBootApplication
@EnableConfigurationProperties(AttentionProperties.class)
public class AttentionServiceApplication {

    public static void main(String[] args) {
        ParentProcessWatch.exitWithParent("attention-service");
        SpringApplication.run(AttentionServiceApplication.class, args);
    }
}
